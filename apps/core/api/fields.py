"""Serializer fields that take only the JSON type they document: a wrong type is a 400, never coerced.

DRF's own fields are lenient: ``42`` passes as the string ``"42"``, ``"3"`` as the integer 3, ``"yes"`` as
``True``. An integration that sends the wrong type has a bug, and guessing hides it until the guess is wrong,
so every API input serializer uses these instead. Each one checks the type first, then hands the value to
the DRF field it extends: ``max_length``, ``min_value``, validators, ``allow_blank``, ``allow_null``,
``help_text`` and the OpenAPI schema drf-spectacular builds are those of the parent class.

``null`` is not a type error: a field refuses it with DRF's own "may not be null" unless ``allow_null``.
``ListField``/``DictField`` and nested serializers already refuse anything but an array/object; give a
``ListField`` a strict ``child``. The API parses JSON only (``DEFAULT_PARSER_CLASSES``), so these checks
never meet a form's strings; do not use them on query-string filters, which are strings by nature.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

_TYPE_ERRORS = {
    "not_a_string": _("Must be a string."),
    "not_an_integer": _("Must be an integer."),
    "not_a_number": _("Must be a number."),
    "not_a_boolean": _("Must be true or false."),
}
_KIND_ERROR = {"string": "not_a_string", "number": "not_a_number", "boolean": "not_a_boolean"}


def _json_kind(value: object) -> str:
    """The JSON type a parsed value came from (``bool`` first: it is a subclass of ``int``)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "other"


class _StringOnly:
    """Refuse anything but a JSON string, then validate as the DRF field it is mixed into."""

    default_error_messages = _TYPE_ERRORS

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("not_a_string")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictCharField(_StringOnly, serializers.CharField):
    """A JSON string; a number, boolean, array or object is refused ("Must be a string.")."""


class StrictSlugField(_StringOnly, serializers.SlugField):
    """A JSON string that is a slug."""


class StrictDateTimeField(_StringOnly, serializers.DateTimeField):
    """A JSON string in one of the accepted date-time formats (ISO 8601 by default); no Unix timestamps."""


class StrictUUIDField(_StringOnly, serializers.UUIDField):
    """A UUID as a JSON string; DRF would also take an integer and build a UUID from it."""


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not a string ("3"), not a boolean, not a float (3.5, nor 3.0)."""

    default_error_messages = _TYPE_ERRORS

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number, integer or not; not a string ("3.5"), not a boolean."""

    default_error_messages = _TYPE_ERRORS

    def to_internal_value(self, data: Any) -> float:
        if _json_kind(data) != "number":
            self.fail("not_a_number")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false``: not 1/0, not "true", "yes" or "on"."""

    default_error_messages = _TYPE_ERRORS

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return data


class StrictChoiceField(serializers.ChoiceField):
    """One of the choices, sent with the JSON type of that choice: with string choices, ``1`` is not ``"1"``."""

    default_error_messages = _TYPE_ERRORS

    def to_internal_value(self, data: Any) -> Any:
        if data == "" and self.allow_blank:
            return ""
        kind = _json_kind(data)
        kinds = {_json_kind(choice) for choice in self.choices}
        if kind not in kinds:
            # Choices of one type (the usual case) name the type expected; mixed ones just refuse the value.
            expected = _KIND_ERROR.get(next(iter(kinds))) if len(kinds) == 1 else None
            self.fail(expected or "invalid_choice", input=data)
        value = super().to_internal_value(data)
        if _json_kind(value) != kind:  # e.g. "1" matched the integer choice 1 through DRF's str() lookup
            self.fail("invalid_choice", input=data)
        return value
