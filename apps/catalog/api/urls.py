from django.urls import path

from apps.catalog.api.views import ReleaseCreateApi

urlpatterns = [
    path("releases/", ReleaseCreateApi.as_view(), name="api-release-create"),
]
