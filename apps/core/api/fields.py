"""Serializer fields that take only the JSON type they document: a wrong type is a 400, never coerced.

DRF's own fields are lenient: ``42`` passes as the string ``"42"``, ``"3"`` as the integer 3, ``"yes"`` as
``True``. An integration that sends the wrong type has a bug, and guessing hides it until the guess is wrong,
so every API input serializer uses these instead. Each one checks the type first, then hands the value to
the DRF field it extends: ``max_length``, ``min_value``, validators, ``allow_blank``, ``allow_null``,
``help_text`` and the OpenAPI schema drf-spectacular builds are those of the parent class.

The OpenAPI schema is the contract bots are generated from, so what these fields accept is exactly what it
says (``make fuzz`` holds the API to it): strings are taken as sent, not trimmed, so ``minLength``,
``maxLength`` and ``pattern`` apply to what the client sent; a string field refuses NUL characters (which
PostgreSQL cannot store) and its schema says so with a pattern; date-times are RFC 3339 with a time zone.

``null`` is not a type error: a field refuses it with DRF's own "may not be null" unless ``allow_null``.
``ListField``/``DictField`` and nested serializers already refuse anything but an array/object; give a
``ListField`` a strict ``child``. The API parses JSON only (``DEFAULT_PARSER_CLASSES``). Query strings are
strings by nature: the string fields work on them as they are; a boolean or integer in a query string is
:class:`QueryBooleanField` or :class:`QueryIntegerField`, and a filter serializer reads
:func:`query_values` rather than the ``QueryDict`` (which DRF reads as an HTML form: an empty value there
would count as absent).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

_TYPE_ERRORS = {
    "not_a_string": _("Must be a string."),
    "not_an_integer": _("Must be an integer."),
    "not_a_number": _("Must be a number."),
    "not_a_boolean": _("Must be true or false."),
}
_KIND_ERROR = {"string": "not_a_string", "number": "not_a_number", "boolean": "not_a_boolean"}

# Patterns the schema shows and the fields enforce, written so that ECMA 262 (JSON Schema's dialect) and
# Python's ``re`` read them alike: only \xHH and \uHHHH escapes and explicit classes, no \s or \w, and \Z
# for the end (Python's $ also matches before a final newline; drf-spectacular writes \Z as ECMA's $).
# What ``str.strip()`` removes (Python's whitespace; ECMA's \s is a different set).
SPACE_CHARS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL_PATTERN = r"^[^\x00]*\Z"
NON_BLANK_PATTERN = r"^[^\x00]+\Z"
# Non-empty, no NUL, no leading or trailing whitespace: an identifier or a name as stored.
TRIMMED_PATTERN = rf"^[^\x00{SPACE_CHARS}]([^\x00]*[^\x00{SPACE_CHARS}])?\Z"
# Product versions: 5.3.0, v5.10, 2.10.1-beta, 6.0.0rc1 (up to four numbers of up to nine digits, then an
# optional a/b/rc/alpha/beta pre-release). A subset of what apps.core.versions parses, on purpose: a bot can
# check it before sending.
VERSION_PATTERN = r"^[vV]?[0-9]{1,9}(\.[0-9]{1,9}){0,3}([-.]?(a|b|rc|alpha|beta)[-.]?[0-9]{0,9})?\Z"
# RFC 3339 with a time zone, years 1970-9998: with any offset, and shown in the portal's time zone, a moment
# stays within what Python and PostgreSQL represent, and in an offset of whole minutes (before 1901 the
# default time zone, Asia/Shanghai, is local mean time, +08:05:43, which RFC 3339 cannot write).
DATE_TIME_PATTERN = (
    r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])\Z"
)


def ecma(pattern: str) -> str:
    """A pattern above as the schema spells it (for schemas written by hand; drf-spectacular does this itself)."""
    return pattern.replace(r"\Z", "$")


no_nul_validator = RegexValidator(
    NO_NUL_PATTERN, ProhibitNullCharactersValidator.message, "null_characters_not_allowed"
)
# Blank values never reach it (DRF refuses them first): it fails on NUL, as no_nul_validator does.
non_blank_validator = RegexValidator(
    NON_BLANK_PATTERN, ProhibitNullCharactersValidator.message, "null_characters_not_allowed"
)
trimmed_validator = RegexValidator(
    TRIMMED_PATTERN, _("Must not be empty nor start or end with a space, and must not contain NUL characters.")
)
version_validator = RegexValidator(
    VERSION_PATTERN, _("Not a version number; use a form like 5.3.0, 5.3 or 5.3.0-beta.1."), "invalid_version"
)


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
    """A JSON string, as sent (not trimmed), without NUL characters; a number, boolean, array or object is
    refused ("Must be a string."). Without a pattern of its own, its schema has the no-NUL pattern."""

    def __init__(self, *, allow_nul: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        if allow_nul:  # the service drops them (e.g. message text, which channels do send with NULs)
            self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]
        elif not any(isinstance(v, RegexValidator) for v in self.validators):
            # DRF's own NUL and blank checks, as a pattern drf-spectacular puts in the schema (it leaves out
            # minLength for request bodies).
            pattern = no_nul_validator if self.allow_blank else non_blank_validator
            self.validators = [
                pattern if isinstance(v, ProhibitNullCharactersValidator) else v for v in self.validators
            ]


class StrictSlugField(_StringOnly, serializers.SlugField):
    """A JSON string that is a slug."""


@extend_schema_field({"type": "string", "format": "date-time", "pattern": ecma(DATE_TIME_PATTERN)})
class StrictDateTimeField(_StringOnly, serializers.DateTimeField):
    """An RFC 3339 date-time with a time zone (``2026-11-01T10:00:00+08:00``, ``…Z``) as a JSON string; no Unix
    timestamps, no dates without a time or a zone, years 1970 to 9998."""

    default_error_messages = {
        **_TYPE_ERRORS,
        "not_rfc3339": _("Use an RFC 3339 date and time with a time zone, e.g. 2026-11-01T10:00:00+08:00."),
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and not re.search(DATE_TIME_PATTERN, data):
            self.fail("not_rfc3339")
        return super().to_internal_value(data)


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


@extend_schema_field({"type": "boolean"})
class QueryBooleanField(serializers.Field):
    """A boolean in a query string: ``true`` or ``false``, nothing else (not 1/0, yes/no, nor an empty value)."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if data == "true":
            return True
        if data == "false":
            return False
        self.fail("invalid")

    def to_representation(self, value: Any) -> bool:
        return bool(value)


@extend_schema_field({"type": "integer"})
class QueryIntegerField(serializers.IntegerField):
    """An integer in a query string: decimal digits with an optional minus sign, nothing else (not 1.0, 1e3,
    ² or an empty value). More than 18 digits read as ±10^18, beyond any limit a field sets (a page far past
    the last is then simply not found)."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or not re.fullmatch(r"-?[0-9]+", data):
            self.fail("invalid")
        if len(data.lstrip("-")) > 18:
            return -(10**18) if data.startswith("-") else 10**18
        return super().to_internal_value(data)


def query_values(request: Request) -> dict[str, str]:
    """The query string as a plain dict (a repeated parameter's last value), for a filter serializer: DRF reads
    a ``QueryDict`` as an HTML form, where an empty value counts as absent or null; here it is a value, and
    refused like any other the schema does not allow."""
    return {name: request.query_params[name] for name in request.query_params}
