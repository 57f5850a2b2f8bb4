from django.urls import path

from apps.knowledge.api.views import ArticleDetailApi, ArticleListApi, ScriptDetailApi, ScriptListApi

urlpatterns = [
    path("articles/", ArticleListApi.as_view(), name="api-article-list"),
    path("articles/<str:external_id>/", ArticleDetailApi.as_view(), name="api-article-detail"),
    path("scripts/", ScriptListApi.as_view(), name="api-script-list"),
    path("scripts/<str:external_id>/", ScriptDetailApi.as_view(), name="api-script-detail"),
]
