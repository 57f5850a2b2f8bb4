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
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavLink:
    label: str  # lazily translated
    url_name: str
    may_open: Callable[[object], bool]
    order: int
    icon: str = "chevron_right"  # a Material Symbols name, as the admin theme draws them


_links: dict[str, NavLink] = {}


def register_link(
    *, label: str, url_name: str, may_open: Callable[[object], bool], order: int, icon: str = "chevron_right"
) -> None:
    """Add a page to the menu (idempotent per URL name: ``ready()`` may run more than once in tests)."""
    _links[url_name] = NavLink(label, url_name, may_open, order, icon)


def links_for(user, *, current_path: str = "") -> list[dict]:
    if not getattr(user, "is_authenticated", False):
        return []
    links = []
    for link in sorted(_links.values(), key=lambda link: link.order):
        if link.may_open(user):
            url = reverse(link.url_name)
            links.append({"label": link.label, "url": url, "current": current_path == url, "icon": link.icon})
    return links


def navigation(request: HttpRequest) -> dict:
    """Context processor: ``portal_links``, the menu of the signed-in person; on the portal's own pages
    (``/qa/``, ``/insights/``) also what the admin theme's layout needs (sidebar, colours, site name), so
    they render in the same frame as the admin. Admin views pass that themselves."""
    # Computed once per request: the theme renders each of its components with the request, which runs
    # every context processor again.
    cached = getattr(request, "_kb_navigation", None)
    if cached is not None:
        return cached
    context = {"portal_links": links_for(getattr(request, "user", None), current_path=request.path)}
    match = getattr(request, "resolver_match", None)
    if match is not None and match.namespace != "admin" and getattr(request.user, "is_authenticated", False):
        from django.contrib import admin

        context.update(admin.site.each_context(request))
    request._kb_navigation = context
    return context


def sidebar(request: HttpRequest) -> list[dict]:
    """The theme's sidebar: the portal's pages the person may open, then each admin area with the models
    they may view. Both come from the same rules as the doors: the link registry and admin permissions."""
    from django.contrib import admin

    def is_current(url: str) -> bool:
        return request.path == url or (url != "/" and request.path.startswith(url) and url.count("/") > 2)

    portal = [
        {"title": link["label"], "icon": link["icon"], "link": link["url"], "active": is_current(link["url"])}
        for link in links_for(request.user, current_path=request.path)
    ]
    groups = [{"title": _("Workspace"), "items": portal}] if portal else []
    for app in admin.site.get_app_list(request):
        items = []
        for model in app["models"]:
            url = model.get("admin_url")
            if not url:
                continue
            model_admin = admin.site._registry.get(model["model"])
            items.append(
                {
                    "title": escape(model["name"]),
                    "icon": getattr(model_admin, "sidebar_icon", "table_rows"),
                    "link": url,
                    "active": request.path.startswith(url),
                }
            )
        if items:
            groups.append({"title": app["name"], "items": items, "collapsible": True, "separator": True})
    return groups


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
