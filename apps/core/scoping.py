"""Row-level scopes: which rows of a model a person may see, the same in every door.

An app that knows the rule (the QA workspace knows who may read which conversation) registers it for the
models it concerns, in its ``AppConfig.ready()``; lower apps (conversations, qa) never import it. The admin
applies every registered scope to its querysets (lists, change pages, actions, exports) through
``apps.core.admin_base.ModelAdmin``; views and selectors call ``scoped()`` themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

Scope = Callable[[object, QuerySet], QuerySet]

_scopes: dict[str, Scope] = {}


def register_scope(model_label: str, scope: Scope) -> None:
    """``model_label`` as Django spells it in lower case ("conversations.conversation")."""
    _scopes[model_label] = scope


def scoped(user, queryset: QuerySet) -> QuerySet:
    scope = _scopes.get(queryset.model._meta.label_lower)
    return scope(user, queryset) if scope is not None else queryset


def has_scope(model) -> bool:
    return model._meta.label_lower in _scopes
