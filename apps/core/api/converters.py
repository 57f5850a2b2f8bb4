"""URL converters of the API."""

from __future__ import annotations

from django.urls import register_converter


class AnyTextConverter:
    """Any non-empty text, slashes and newlines included (Django's ``path`` stops at a newline).

    The API's identifiers in URLs use it so that every request reaches its view, which answers an id that
    cannot exist with the API's JSON 404; a URL the resolver cannot match gets Django's HTML 404 page.
    """

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyTextConverter, "anytext")
