"""Product version strings ("5.3.0", "2.10.1-beta") and their sort keys."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from packaging.version import InvalidVersion, Version

KEY_LENGTH = 4
MAX_PART = 999_999_999


def version_key(value: str) -> list[int]:
    """A fixed-length integer key that sorts like the version: "5.10.0" after "5.9.3".

    Four release components (missing ones are 0) so PostgreSQL compares int arrays correctly;
    pre-releases sort just below their release via a fifth component.
    """
    try:
        parsed = Version(value.strip().lstrip("vV"))
    except InvalidVersion as exc:
        raise ValidationError(
            _("“%(value)s” is not a version number; use a form like 5.3.0."),
            code="invalid_version",
            params={"value": value},
        ) from exc
    release = list(parsed.release[:KEY_LENGTH]) + [0] * (KEY_LENGTH - len(parsed.release[:KEY_LENGTH]))
    if any(part > MAX_PART for part in release):  # the key is a PostgreSQL integer[]
        raise ValidationError(
            _("“%(value)s” has a part larger than %(max)s."),
            code="invalid_version",
            params={"value": value[:40], "max": MAX_PART},
        )
    # 0 for pre-releases (a/b/rc) and dev builds, 1 for the final release: 5.3.0rc1 < 5.3.0.
    release.append(0 if parsed.is_prerelease else 1)
    return release


def validate_version(value: str) -> None:
    version_key(value)
