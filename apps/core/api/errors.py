"""Turning a service's refusal into the API's documented answer, where the two differ."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from apps.core.errors import Conflict, DomainError, NotFound, ValidationFailed


@contextmanager
def not_found_on(*fields: str) -> Iterator[None]:
    """A service's ``ValidationFailed`` whose field errors are all on ``fields`` becomes a 404.

    Services refuse a product or feature that does not exist as invalid input, which suits the admin and
    file imports. Over the API the request is well formed (the schema cannot list what exists) and names
    something that is not there: a 404, with the same message and field errors.
    """
    with _refused_as(NotFound, fields):
        yield


@contextmanager
def conflict_on(*fields: str) -> Iterator[None]:
    """Likewise a 409, for a well-formed value that the state of the resource rules out (e.g. choosing an
    article that was not among a question's suggestions)."""
    with _refused_as(Conflict, fields):
        yield


@contextmanager
def _refused_as(error: type[DomainError], fields: tuple[str, ...]) -> Iterator[None]:
    try:
        yield
    except ValidationFailed as exc:
        if exc.field_errors and set(exc.field_errors) <= set(fields):
            raise error(exc.message, field_errors=exc.field_errors, **exc.extra) from exc
        raise
