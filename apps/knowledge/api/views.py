from __future__ import annotations

import re

from django.db.models import QuerySet
from django.http import Http404, HttpResponseBase
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.conditional import (
    IF_NONE_MATCH,
    NOT_MODIFIED,
    client_has,
    conditional_headers,
    not_modified,
    one_snapshot,
    revalidated,
    weak_etag,
)
from apps.core.api.fields import query_values
from apps.core.api.pagination import PageSerializer, StandardPagination
from apps.core.api.schema import api_errors, paginated
from apps.core.api.sync import SYNC_CURSOR_HEADER, cursor_text, sync_cursor, sync_cursor_header
from apps.knowledge.api.etags import article_versions_digest, script_versions_digest
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

# What every entity tag also covers besides the rows: the API version and the fields a body has (a field added
# within v1 changes every tag, so clients fetch the new shape once).
_ARTICLE_FORM = ("v1", 1, *ArticleSerializer().fields)
_SCRIPT_FORM = ("v1", 1, *ScriptSerializer().fields)

# The conditional-GET contract, as the schema shows it on all four endpoints (lists also send the sync cursor).
_CONDITIONAL = [IF_NONE_MATCH, *conditional_headers(200, 304)]
_POLLED_LIST = [*_CONDITIONAL, sync_cursor_header(200, 304)]


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


def _page_ids(versions: QuerySet, paginator: StandardPagination, request: Request, view: APIView) -> list[int]:
    """The ids of the requested page's versions, in page order (a 404 past the last page)."""
    ids = versions.prefetch_related(None).select_related(None).values_list("pk", flat=True)
    return paginator.paginate_queryset(ids, request, view=view)


def _page_form(paginator: StandardPagination) -> tuple:
    """What the page envelope shows besides the items: the count and the links (which carry the query)."""
    return (paginator.page.paginator.count, paginator.get_next_link(), paginator.get_previous_link())


def _one_id(versions: QuerySet) -> int:
    """The id of the single published version asked for, or a 404."""
    found = list(versions.prefetch_related(None).select_related(None).values_list("pk", flat=True)[:1])
    if not found:
        raise Http404
    return found[0]


class ArticleListApi(APIView):
    """``GET /api/v1/articles/``: published articles, paginated and filterable."""

    required_scope = "articles:read"

    @extend_schema(
        operation_id="articles_list",
        parameters=[ArticleFilterSerializer, PageSerializer, *_POLLED_LIST],
        responses={
            200: paginated("ArticlePage", ArticleSerializer(many=True)),
            304: NOT_MODIFIED,
            **api_errors("articles:read", not_found="No such page (past the last one)."),
        },
        tags=["knowledge"],
    )
    def get(self, request: Request) -> HttpResponseBase:
        filters = ArticleFilterSerializer(data=query_values(request))
        filters.is_valid(raise_exception=True)
        params = dict(filters.validated_data)
        channel = params.pop("channel", None)
        headers = {SYNC_CURSOR_HEADER: cursor_text(sync_cursor())}  # before the list: see apps.core.api.sync
        paginator = StandardPagination()
        with one_snapshot():
            versions = published_article_versions(**params)
            ids = _page_ids(versions, paginator, request, self)
            etag = weak_etag(request, _ARTICLE_FORM, channel, *_page_form(paginator), article_versions_digest(ids))
            if client_has(request, etag):
                return not_modified(etag, **headers)
            data = ArticleSerializer(versions.filter(pk__in=ids), many=True, context={"channel": channel}).data
        return revalidated(paginator.get_paginated_response(data), etag, **headers)


class ArticleDetailApi(APIView):
    """``GET /api/v1/articles/{external_id}/``: the published version of one article."""

    required_scope = "articles:read"

    @extend_schema(
        operation_id="articles_retrieve",
        parameters=[_external_id("mall-refund-001"), ChannelFilterSerializer, *_CONDITIONAL],
        responses={200: ArticleSerializer, 304: NOT_MODIFIED, **api_errors("articles:read", not_found=True)},
        tags=["knowledge"],
    )
    def get(self, request: Request, external_id: str) -> HttpResponseBase:
        filters = ChannelFilterSerializer(data=query_values(request))
        filters.is_valid(raise_exception=True)
        channel = filters.validated_data.get("channel")
        with one_snapshot():
            versions = published_article_versions().filter(article__external_id=_known_form(external_id))
            version_id = _one_id(versions)
            etag = weak_etag(request, _ARTICLE_FORM, channel, article_versions_digest([version_id]))
            if client_has(request, etag):
                return not_modified(etag)
            data = ArticleSerializer(versions.get(pk=version_id), context={"channel": channel}).data
        return revalidated(Response(data), etag)


class ScriptListApi(APIView):
    """``GET /api/v1/scripts/``: published scripts, paginated and filterable."""

    required_scope = "articles:read"

    @extend_schema(
        operation_id="scripts_list",
        parameters=[ScriptFilterSerializer, PageSerializer, *_POLLED_LIST],
        responses={
            200: paginated("ScriptPage", ScriptSerializer(many=True)),
            304: NOT_MODIFIED,
            **api_errors("articles:read", not_found="No such page (past the last one)."),
        },
        tags=["knowledge"],
    )
    def get(self, request: Request) -> HttpResponseBase:
        filters = ScriptFilterSerializer(data=query_values(request))
        filters.is_valid(raise_exception=True)
        headers = {SYNC_CURSOR_HEADER: cursor_text(sync_cursor())}  # before the list: see apps.core.api.sync
        paginator = StandardPagination()
        with one_snapshot():
            versions = published_script_versions(**filters.validated_data)
            ids = _page_ids(versions, paginator, request, self)
            etag = weak_etag(request, _SCRIPT_FORM, *_page_form(paginator), script_versions_digest(ids))
            if client_has(request, etag):
                return not_modified(etag, **headers)
            data = ScriptSerializer(versions.filter(pk__in=ids), many=True).data
        return revalidated(paginator.get_paginated_response(data), etag, **headers)


class ScriptDetailApi(APIView):
    """``GET /api/v1/scripts/{external_id}/``: the published version of one script."""

    required_scope = "articles:read"

    @extend_schema(
        operation_id="scripts_retrieve",
        parameters=[_external_id("script-apology-001"), *_CONDITIONAL],
        responses={200: ScriptSerializer, 304: NOT_MODIFIED, **api_errors("articles:read", not_found=True)},
        tags=["knowledge"],
    )
    def get(self, request: Request, external_id: str) -> HttpResponseBase:
        with one_snapshot():
            versions = published_script_versions().filter(script__external_id=_known_form(external_id))
            version_id = _one_id(versions)
            etag = weak_etag(request, _SCRIPT_FORM, script_versions_digest([version_id]))
            if client_has(request, etag):
                return not_modified(etag)
            data = ScriptSerializer(versions.get(pk=version_id)).data
        return revalidated(Response(data), etag)
