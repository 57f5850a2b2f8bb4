"""Shared pieces of the OpenAPI description."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from apps.core.api.serializers import ErrorSerializer


def api_errors(
    scope: str, *, not_found: bool | str = False, body: bool = False
) -> dict[int | tuple[int, str], OpenApiResponse]:
    """The error responses every key-authenticated endpoint can give (``body``: it reads a JSON body;
    ``not_found``: it can answer 404, described by the string if one is given)."""
    errors: dict[int | tuple[int, str], OpenApiResponse] = {
        # Answered by gunicorn before the API sees the request (so in its own HTML): a URL no valid request
        # reaches, as every parameter has a length limit.
        (414, "text/html"): OpenApiResponse(
            OpenApiTypes.STR, description="The request line is longer than the web server takes (4094 bytes)."
        ),
        400: OpenApiResponse(ErrorSerializer, description="Invalid input; `errors` maps each field to its messages."),
        401: OpenApiResponse(ErrorSerializer, description="No API key, or an unknown, expired or revoked one."),
        403: OpenApiResponse(ErrorSerializer, description=f"The key lacks the `{scope}` scope."),
        429: OpenApiResponse(ErrorSerializer, description="Rate limit of the key exceeded; see `Retry-After`."),
        503: OpenApiResponse(
            ErrorSerializer,
            description="The database is briefly unavailable (`code`: `database_unavailable`); nothing was stored. "
            "Retry after `Retry-After` seconds.",
        ),
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


Links = dict[int, dict[str, tuple[str, dict[str, str]]]]


class ApiSchema(AutoSchema):
    """What drf-spectacular cannot infer about a view, as class attributes (it re-instantiates the class when
    the view's methods carry ``@extend_schema``): make one with :func:`api_schema`."""

    links: Links = {}
    body_required = False

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        for code, links in self.links.items():
            operation["responses"][str(code)]["links"] = {
                name: {"operationId": operation_id, "parameters": parameters}
                for name, (operation_id, parameters) in links.items()
            }
        return operation

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body is not None and self.body_required:
            body["required"] = True
        return body


def api_schema(*, links: Links | None = None, body_required: bool = False) -> ApiSchema:
    """A view's ``schema``. ``links``: from a response to the operations it feeds, ``{status: {name:
    (operation_id, {parameter: runtime expression})}}``, which client generators and schemathesis's stateful
    tests follow. ``body_required``: for a body of several shapes (``PolymorphicProxySerializer``), which
    drf-spectacular marks optional as it sees no required field."""
    attributes = {"links": links or {}, "body_required": body_required}
    return type("ViewApiSchema", (ApiSchema,), attributes)()
