"""Version 1 of the REST API: every endpoint authenticates with a scoped API key."""

from django.urls import include, path

from apps.core.api.views import PingApi

urlpatterns = [
    path("ping/", PingApi.as_view(), name="api-ping"),
    path("", include("apps.catalog.api.urls")),
    path("", include("apps.knowledge.api.urls")),
    path("", include("apps.answers.api.urls")),
    path("", include("apps.conversations.api.urls")),
]
