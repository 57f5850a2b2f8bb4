"""The one mapping from a domain error (``apps.core.errors``) to what a person sees: errors on a form, a
message in the admin, or a JSON body in the API. Views, admin pages and the API exception handler all call
these, so a service's error reads the same at every door.

Every ``DomainError`` carries ``message`` (what went wrong, in words the user can act on), ``field_errors``
(``{field or path: [problem, …]}``, the details), and ``code``/``status_code`` (for machines). When there are
field errors, the message only sums them up, so a form shows the details and an admin message the summary.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from apps.core.errors import DomainError


def add_to_form(form: forms.BaseForm, error: DomainError, *, on_fields: bool = True) -> None:
    """Show ``error`` on ``form``: each field error on the form's field of that name, and the message above
    the form when there are no field errors. A field error the form has no field for goes above the form
    as ``"<path>: <problems>"``; so do all of them with ``on_fields=False``, when the error's names are not
    the form's (paths inside an uploaded file)."""
    for field_name, problems in error.field_errors.items():
        if on_fields and field_name in form.fields:
            for problem in problems:
                form.add_error(field_name, problem)
        else:
            form.add_error(None, _named(field_name, problems))
    if not error.field_errors:
        form.add_error(None, error.message)


def as_validation_error(error: DomainError) -> forms.ValidationError:
    """``error`` as Django's form ``ValidationError``, for a form's ``clean_<field>()`` that asks a service
    (or a parser) to check a value: one ``"<path>: <problems>"`` line per field error, else the message."""
    if error.field_errors:
        return forms.ValidationError([_named(path, problems) for path, problems in error.field_errors.items()])
    return forms.ValidationError(error.message, code=error.code)


def message_admin(request: HttpRequest, error: DomainError, *, about: object | None = None) -> None:
    """Show ``error`` as an error message on the next admin page: its message, after ``"<about>: "`` when an
    action ran over several rows and this one failed."""
    text = error.message if about is None else f"{about}: {error.message}"
    messages.error(request, text)


def as_json(error: DomainError) -> dict[str, Any]:
    """The API's body for ``error`` (sent with ``error.status_code``): ``detail`` (the message), ``code``,
    ``errors`` (the field errors, when there are any) and any extra keys the service attached."""
    body: dict[str, Any] = {"detail": error.message, "code": error.code}
    if error.field_errors:
        body["errors"] = error.field_errors
    body.update(error.extra)
    return body


def _named(path: str, problems: list[str]) -> str:
    return f"{path}: {' '.join(str(problem) for problem in problems)}"
