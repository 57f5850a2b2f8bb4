from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _
from unfold.sites import UnfoldAdminSite


class KBAdminSite(UnfoldAdminSite):
    """The admin, in the portal's theme (django-unfold), with KB Portal's name and a home page that starts
    from the work waiting (the panels apps register in ``apps.core.admin_panels``)."""

    site_header = _("KB Portal")
    site_title = _("KB Portal")
    index_title = _("Workbench")
    index_template = "admin/kb_index.html"
    enable_nav_sidebar = True  # the theme's sidebar is the portal's one menu (apps.core.navigation.sidebar)

    def index(self, request, extra_context=None):
        from apps.core.admin_panels import render_index_panels

        extra = {**(extra_context or {}), "panels": render_index_panels(request)}
        return super().index(request, extra)


class KBAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``KBAdminSite`` as ``admin.site``."""

    default_site = "apps.core.admin_site.KBAdminSite"


def portal_stylesheet(request) -> str:
    """The few styles of our own on top of the theme (status badges, the diff, the sticky workflow bar)."""
    from django.templatetags.static import static

    return static("kbportal/portal.css")


def portal_script(request) -> str:
    """Small fixes on top of the theme for every page (icons hidden from screen readers)."""
    from django.templatetags.static import static

    return static("kbportal/portal.js")
