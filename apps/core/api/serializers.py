from __future__ import annotations

from typing import Any

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error response: a message, a machine code, and field errors for invalid input."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field path (`messages[2].sent_at`, `changed_features[0]`) → messages.",
    )


def flat_errors(errors: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested field errors (lists of dicts for nested lists, dicts keyed by index for list fields) as
    one level keyed by the field's path, the shape ``ErrorSerializer.errors`` documents."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))
            _merge(flat, flat_errors(value, name))
    elif isinstance(errors, list) and all(isinstance(item, str) for item in errors):
        flat[path or "non_field_errors"] = [str(item) for item in errors]
    elif isinstance(errors, list):
        for index, item in enumerate(errors):
            if item:  # a nested list's valid items come back as empty dicts
                _merge(flat, flat_errors(item, f"{path}[{index}]"))
    else:
        flat[path or "non_field_errors"] = [str(errors)]
    return flat


def _merge(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for key, messages in more.items():
        into.setdefault(key, []).extend(messages)
