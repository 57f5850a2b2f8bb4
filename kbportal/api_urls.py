"""Version 1 of the REST API: every endpoint authenticates with a scoped API key."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.catalog.api.urls")),
    path("", include("apps.knowledge.api.urls")),
    path("", include("apps.answers.api.urls")),
]
