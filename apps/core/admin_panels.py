"""Panels on the admin's home page ("Workbench"), contributed by the apps that own their content.

Core draws the page; each app registers its panels in its ``AppConfig.ready()``, so core never imports the
apps above it. A panel is a template and a function giving its context for the person looking, or ``None``
when the panel is not for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class IndexPanel:
    name: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100


_panels: dict[str, IndexPanel] = {}


def register_index_panel(
    name: str, *, template: str, context: Callable[[HttpRequest], dict[str, Any] | None], order: int = 100
) -> None:
    """Add a panel to the admin home page; registering a name again replaces it."""
    _panels[name] = IndexPanel(name=name, template=template, context=context, order=order)


def render_index_panels(request: HttpRequest) -> list[SafeString]:
    """The panels this person may see, rendered, in order."""
    rendered = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.name)):
        context = panel.context(request)
        if context is not None:
            rendered.append(render_to_string(panel.template, context, request=request))
    return rendered
