from __future__ import annotations

import re

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.fields import query_values
from apps.core.api.pagination import PageSerializer, StandardPagination
from apps.core.api.schema import api_errors, paginated
from apps.knowledge.api.serializers import (
    EXTERNAL_ID_PATTERN,
    ArticleFilterSerializer,
    ArticleSerializer,
    ChannelFilterSerializer,
    ScriptFilterSerializer,
    ScriptSerializer,
)
from apps.knowledge.selectors import published_article_versions, published_script_versions

_EXTERNAL_ID = re.compile(EXTERNAL_ID_PATTERN)


def _external_id(example: str) -> OpenApiParameter:
    return OpenApiParameter(
        "external_id",
        {"type": "string", "pattern": EXTERNAL_ID_PATTERN},
        OpenApiParameter.PATH,
        description="The item's external id (letters, digits, `.`, `_`, `:` or `-`, up to 100).",
        examples=[OpenApiExample(example, value=example)],
    )


def _known_form(external_id: str) -> str:
    """An id no item can have (the URL takes any path, so that every answer is JSON) is simply not found."""
    if not _EXTERNAL_ID.fullmatch(external_id):
        raise Http404
    return external_id


class ArticleListApi(APIView):
    """``GET /api/v1/articles/``: published articles, paginated and filterable."""

    required_scope = "articles:read"

    @extend_schema(
        operation_id="articles_list",
        parameters=[ArticleFilterSerializer, PageSerializer],
        responses={
            200: paginated("ArticlePage", ArticleSerializer(many=True)),
            **api_errors("articles:read", not_found="No such page (past the last one)."),
        },
        tags=["knowledge"],
    )
    def get(self, request: Request) -> Response:
        filters = ArticleFilterSerializer(data=query_values(request))
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
        parameters=[_external_id("mall-refund-001"), ChannelFilterSerializer],
        responses={200: ArticleSerializer, **api_errors("articles:read", not_found=True)},
        tags=["knowledge"],
    )
    def get(self, request: Request, external_id: str) -> Response:
        filters = ChannelFilterSerializer(data=query_values(request))
        filters.is_valid(raise_exception=True)
        version = published_article_versions().filter(article__external_id=_known_form(external_id)).first()
        if version is None:
            raise Http404
        return Response(ArticleSerializer(version, context={"channel": filters.validated_data.get("channel")}).data)


class ScriptListApi(APIView):
    """``GET /api/v1/scripts/``: published scripts, paginated and filterable."""

    required_scope = "articles:read"

    @extend_schema(
        operation_id="scripts_list",
        parameters=[ScriptFilterSerializer, PageSerializer],
        responses={
            200: paginated("ScriptPage", ScriptSerializer(many=True)),
            **api_errors("articles:read", not_found="No such page (past the last one)."),
        },
        tags=["knowledge"],
    )
    def get(self, request: Request) -> Response:
        filters = ScriptFilterSerializer(data=query_values(request))
        filters.is_valid(raise_exception=True)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(published_script_versions(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(ScriptSerializer(page, many=True).data)


class ScriptDetailApi(APIView):
    """``GET /api/v1/scripts/{external_id}/``: the published version of one script."""

    required_scope = "articles:read"

    @extend_schema(
        operation_id="scripts_retrieve",
        parameters=[_external_id("script-apology-001")],
        responses={200: ScriptSerializer, **api_errors("articles:read", not_found=True)},
        tags=["knowledge"],
    )
    def get(self, request: Request, external_id: str) -> Response:
        version = published_script_versions().filter(script__external_id=_known_form(external_id)).first()
        if version is None:
            raise Http404
        return Response(ScriptSerializer(version).data)
