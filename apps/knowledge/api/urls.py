from django.urls import path

import apps.core.api.converters  # noqa: F401 (registers "anytext")
from apps.knowledge.api.views import ArticleDetailApi, ArticleListApi, ScriptDetailApi, ScriptListApi

# ``anytext`` so that any id reaches the view, which answers an unknown one with the API's JSON 404 (the URL
# resolver's own 404 would be an HTML page).
urlpatterns = [
    path("articles/", ArticleListApi.as_view(), name="api-article-list"),
    path("articles/<anytext:external_id>/", ArticleDetailApi.as_view(), name="api-article-detail"),
    path("scripts/", ScriptListApi.as_view(), name="api-script-list"),
    path("scripts/<anytext:external_id>/", ScriptDetailApi.as_view(), name="api-script-detail"),
]
