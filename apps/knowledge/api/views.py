from __future__ import annotations

from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import StandardPagination
from apps.knowledge.api.serializers import (
    ArticleFilterSerializer,
    ArticleSerializer,
    ScriptFilterSerializer,
    ScriptSerializer,
)
from apps.knowledge.selectors import published_article_versions, published_script_versions


class ArticleListApi(APIView):
    """``GET /api/v1/articles/``: published articles, paginated and filterable."""

    required_scope = "articles:read"

    def get(self, request: Request) -> Response:
        filters = ArticleFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params = dict(filters.validated_data)
        channel = params.pop("channel", None)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(published_article_versions(**params), request, view=self)
        data = ArticleSerializer(page, many=True, context={"channel": channel}).data
        return paginator.get_paginated_response(data)


class ArticleDetailApi(APIView):
    required_scope = "articles:read"

    def get(self, request: Request, external_id: str) -> Response:
        filters = ArticleFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        version = published_article_versions().filter(article__external_id=external_id).first()
        if version is None:
            raise Http404
        return Response(ArticleSerializer(version, context={"channel": filters.validated_data.get("channel")}).data)


class ScriptListApi(APIView):
    """``GET /api/v1/scripts/``: published scripts, paginated and filterable."""

    required_scope = "articles:read"

    def get(self, request: Request) -> Response:
        filters = ScriptFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(published_script_versions(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(ScriptSerializer(page, many=True).data)


class ScriptDetailApi(APIView):
    required_scope = "articles:read"

    def get(self, request: Request, external_id: str) -> Response:
        version = published_script_versions().filter(script__external_id=external_id).first()
        if version is None:
            raise Http404
        return Response(ScriptSerializer(version).data)
