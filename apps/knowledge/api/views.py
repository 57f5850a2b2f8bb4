from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import StandardPagination
from apps.core.api.schema import api_errors, paginated
from apps.knowledge.api.serializers import (
    ArticleFilterSerializer,
    ArticleSerializer,
    ScriptFilterSerializer,
    ScriptSerializer,
)
from apps.knowledge.selectors import published_article_versions, published_script_versions

_PAGES = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("page_size", int, description="Items per page (default 50, at most 500)."),
]


class ArticleListApi(APIView):
    """``GET /api/v1/articles/``: published articles, paginated and filterable."""

    required_scope = "articles:read"

    @extend_schema(
        operation_id="articles_list",
        parameters=[ArticleFilterSerializer, *_PAGES],
        responses={200: paginated("ArticlePage", ArticleSerializer(many=True)), **api_errors("articles:read")},
        tags=["knowledge"],
    )
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
    """``GET /api/v1/articles/{external_id}/``: the published version of one article."""

    required_scope = "articles:read"

    @extend_schema(
        operation_id="articles_retrieve",
        parameters=[OpenApiParameter("channel", str, description="Answer text for this channel, if it has one.")],
        responses={200: ArticleSerializer, **api_errors("articles:read", not_found=True)},
        tags=["knowledge"],
    )
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

    @extend_schema(
        operation_id="scripts_list",
        parameters=[ScriptFilterSerializer, *_PAGES],
        responses={200: paginated("ScriptPage", ScriptSerializer(many=True)), **api_errors("articles:read")},
        tags=["knowledge"],
    )
    def get(self, request: Request) -> Response:
        filters = ScriptFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(published_script_versions(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(ScriptSerializer(page, many=True).data)


class ScriptDetailApi(APIView):
    """``GET /api/v1/scripts/{external_id}/``: the published version of one script."""

    required_scope = "articles:read"

    @extend_schema(
        operation_id="scripts_retrieve",
        responses={200: ScriptSerializer, **api_errors("articles:read", not_found=True)},
        tags=["knowledge"],
    )
    def get(self, request: Request, external_id: str) -> Response:
        version = published_script_versions().filter(script__external_id=external_id).first()
        if version is None:
            raise Http404
        return Response(ScriptSerializer(version).data)
