"""Conditional GET for read endpoints that bots poll: ``ETag`` out, ``If-None-Match`` in, ``304`` when unchanged.

An endpoint computes its entity tag from what its body is made of (a digest the database computes over the
rows it would show, the page's count and links, the request's choices such as the channel, the media type and
the language), not from the rendered body, so that a 304 costs a few small queries and no serialization. The
tag is weak (``W/"…"``): it promises the same content, not the same bytes (a renderer upgrade may change the
spacing).

The digest and the body must describe the same moment: :func:`one_snapshot` reads both in one repeatable-read
transaction, so a change committed between them can never give an old body a new tag (which a later 304
would then wrongly confirm).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.http import HttpResponseBase, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.request import Request

# Authenticated answers: no shared cache may keep them, and a client must ask again (with If-None-Match) each time.
CACHE_CONTROL = "private, no-cache"
VARY = ("Accept", "Accept-Language")


def weak_etag(request: Request, *parts: object) -> str:
    """A weak entity tag over ``parts`` and what the request chose about the body's form (media type, language)."""
    digest = hashlib.sha256()
    for part in (request.accepted_media_type, get_language(), *parts):
        digest.update(repr(part).encode())
        digest.update(b"\x00")
    return f'W/"{digest.hexdigest()[:40]}"'


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def client_has(request: Request, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks for GET) or is ``*``."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or _opaque(etag) in {_opaque(t) for t in tags}


def revalidated(response: HttpResponseBase, etag: str, **headers: str) -> HttpResponseBase:
    """``response`` with the entity tag and the caching rules every conditional endpoint sends."""
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    for name, value in headers.items():
        response[name] = value
    patch_vary_headers(response, VARY)
    return response


def not_modified(etag: str, **headers: str) -> HttpResponseBase:
    """The bodiless 304 with the headers a 200 would have carried."""
    return revalidated(HttpResponseNotModified(), etag, **headers)


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Every query inside sees the database at one moment (a repeatable-read transaction; read only, so it never
    fails to serialize). Inside a transaction already open (tests), that transaction's isolation is kept."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


# --- what the schema says about it ---------------------------------------------------------------------------

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` of the response you already have (or a comma-separated list of them, or `*`): "
    "unchanged content is answered `304 Not Modified` with no body.",
)


def conditional_headers(*codes: int) -> list[OpenApiParameter]:
    """The response headers of a conditional endpoint, on the responses with status ``codes``."""
    return [
        OpenApiParameter(
            "ETag",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=list(codes),
            description="A weak entity tag of the content: send it back in `If-None-Match` next time.",
        ),
        OpenApiParameter(
            "Cache-Control",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=list(codes),
            description=f"`{CACHE_CONTROL}`: keep a copy, but revalidate it (`If-None-Match`) before each use.",
        ),
    ]


NOT_MODIFIED = OpenApiResponse(
    description="Not modified: the `If-None-Match` tag is still current. No body; keep the copy you have."
)
