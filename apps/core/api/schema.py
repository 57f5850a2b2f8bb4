"""Shared pieces of the OpenAPI description."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from apps.core.api.serializers import ErrorSerializer


def api_errors(scope: str, *, not_found: bool | str = False, body: bool = False) -> dict[int, OpenApiResponse]:
    """The error responses every key-authenticated endpoint can give (``body``: it reads a JSON body;
    ``not_found``: it can answer 404, described by the string if one is given)."""
    errors = {
        400: OpenApiResponse(ErrorSerializer, description="Invalid input; `errors` maps each field to its messages."),
        401: OpenApiResponse(ErrorSerializer, description="No API key, or an unknown, expired or revoked one."),
        403: OpenApiResponse(ErrorSerializer, description=f"The key lacks the `{scope}` scope."),
        429: OpenApiResponse(ErrorSerializer, description="Rate limit of the key exceeded; see `Retry-After`."),
    }
    if body:
        errors[413] = OpenApiResponse(ErrorSerializer, description="The body is larger than `API_MAX_BODY_BYTES`.")
        errors[415] = OpenApiResponse(ErrorSerializer, description="The body is not `application/json`.")
    if not_found:
        description = not_found if isinstance(not_found, str) else "No such item (or not published)."
        errors[404] = OpenApiResponse(ErrorSerializer, description=description)
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


class RequiredBodySchema(AutoSchema):
    """For a view whose body is one of several shapes (``PolymorphicProxySerializer``): drf-spectacular marks
    such a body optional, as it cannot see required fields; the view refuses a request without one."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body is not None:
            body["required"] = True
        return body
