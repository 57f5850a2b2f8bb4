"""The domain errors services raise. ``apps.core.error_display`` is the one mapping that shows them: on a
form (``add_to_form``), as an admin message (``message_admin``) and as the API's JSON body (``as_json``, used by
the exception handler in ``apps.core.api.exceptions``). An app's own error family subclasses these."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused the operation; the message tells the user what to do."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = str(message)
        self.field_errors = field_errors or {}
        self.extra = extra


class ValidationFailed(DomainError):
    code = "invalid"


class PermissionRefused(DomainError):
    status_code = 403
    code = "permission_denied"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
