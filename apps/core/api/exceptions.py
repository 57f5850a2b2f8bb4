"""One place that turns errors into API responses: always JSON, always a 4xx for bad input."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.api.serializers import flat_errors
from apps.core.error_display import as_json
from apps.core.errors import DomainError

# How long a client should wait before retrying while the database is unavailable (a restart takes seconds).
DATABASE_RETRY_AFTER_SECONDS = 5


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is restarting or unreachable: nothing was stored; the client retries (bots and
        # integrations do on 503), and a resend is idempotent. Never "rejected", which means "do not retry".
        return Response(
            {"detail": _("The service is briefly unavailable; try again shortly."), "code": "database_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DomainError):
        return Response(as_json(exc), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return Response(
                {"detail": _("Invalid input."), "code": "invalid", "errors": exc.message_dict},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response({"detail": " ".join(exc.messages), "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        # Serializer field errors: keep them under "errors", one level keyed by field path, as documented.
        response.data = {"detail": _("Invalid input."), "code": "invalid", "errors": flat_errors(response.data)}
    elif response is not None and isinstance(response.data, list):
        response.data = {
            "detail": _("Invalid input."),
            "code": "invalid",
            "errors": {"non_field_errors": response.data},
        }
    elif response is not None and isinstance(response.data, dict) and "code" not in response.data:
        # DRF's own errors (401, 403, 404, 405, 415, 429…) carry only "detail": every error body has a code.
        response.data["code"] = getattr(response.data["detail"], "code", None) or "error"
    return response
