"""Whether the work that follows a release has run, for the release API to report.

Catalog records releases; the apps above it do the follow-up work (knowledge's stale check) and
register here how to tell whether it is done. Catalog asks without importing them.
"""

from __future__ import annotations

from collections.abc import Callable

from apps.catalog.models import Release

_done_checks: dict[str, Callable[[Release], bool]] = {}


def register_follow_up(name: str, *, is_done: Callable[[Release], bool]) -> None:
    """Called from a higher app's ``AppConfig.ready()``; registering a name again replaces it."""
    _done_checks[name] = is_done


def follow_up_done(release: Release, name: str) -> bool:
    """``False`` when the follow-up has not run, or no app registered it."""
    is_done = _done_checks.get(name)
    return bool(is_done and is_done(release))
