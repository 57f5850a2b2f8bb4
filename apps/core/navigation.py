"""The portal's one menu: each app registers the pages it owns, with the rule that decides who may open
them, and every page shows a person only the links they may follow.

Apps register in their ``AppConfig.ready()`` (core never imports them), passing the same predicate their
views enforce, so the menu and the door cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavLink:
    label: str  # lazily translated
    url_name: str
    may_open: Callable[[object], bool]
    order: int


_links: dict[str, NavLink] = {}


def register_link(*, label: str, url_name: str, may_open: Callable[[object], bool], order: int) -> None:
    """Add a page to the menu (idempotent per URL name: ``ready()`` may run more than once in tests)."""
    _links[url_name] = NavLink(label, url_name, may_open, order)


def links_for(user, *, current_path: str = "") -> list[dict]:
    if not getattr(user, "is_authenticated", False):
        return []
    links = []
    for link in sorted(_links.values(), key=lambda link: link.order):
        if link.may_open(user):
            url = reverse(link.url_name)
            links.append({"label": link.label, "url": url, "current": current_path == url})
    return links


def navigation(request: HttpRequest) -> dict:
    """Context processor: ``portal_links``, the menu of the signed-in person."""
    return {"portal_links": links_for(getattr(request, "user", None), current_path=request.path)}


# --- each role's home: where a person lands after signing in ------------------------------------------


@dataclass(frozen=True)
class Home:
    url_name: str
    applies_to: Callable[[object], bool]
    priority: int  # the lowest applicable wins: a lead who also reviews lands on the dashboard


_homes: dict[str, Home] = {}


def register_home(*, url_name: str, applies_to: Callable[[object], bool], priority: int) -> None:
    _homes[url_name] = Home(url_name, applies_to, priority)


def home_for(user) -> str:
    """The URL of the person's own home; the admin for anyone no app claims."""
    for home in sorted(_homes.values(), key=lambda home: home.priority):
        if home.applies_to(user):
            return reverse(home.url_name)
    return reverse("admin:index")
