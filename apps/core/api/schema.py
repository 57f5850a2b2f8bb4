"""Shared pieces of the OpenAPI description."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from apps.core.api.serializers import ErrorSerializer


def api_errors(scope: str, *, not_found: bool = False, body: bool = False) -> dict[int, OpenApiResponse]:
    """The error responses every key-authenticated endpoint can give (``body``: it reads a JSON body)."""
    errors = {
        400: OpenApiResponse(ErrorSerializer, description="Invalid input; `errors` maps each field to its messages."),
        401: OpenApiResponse(ErrorSerializer, description="No API key, or an unknown, expired or revoked one."),
        403: OpenApiResponse(ErrorSerializer, description=f"The key lacks the `{scope}` scope."),
        429: OpenApiResponse(ErrorSerializer, description="Rate limit of the key exceeded; see `Retry-After`."),
    }
    if body:
        errors[413] = OpenApiResponse(ErrorSerializer, description="The body is larger than `API_MAX_BODY_BYTES`.")
    if not_found:
        errors[404] = OpenApiResponse(ErrorSerializer, description="No such item (or not published).")
    return errors


def paginated(name: str, item: serializers.Serializer) -> serializers.Serializer:
    """The page envelope of list endpoints (``?page=``, ``?page_size=`` up to 500)."""
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item,
        },
    )
