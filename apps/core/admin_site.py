from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class KBAdminSite(admin.AdminSite):
    """The admin with KB Portal's name and a home page that starts from the work waiting."""

    site_header = _("KB Portal")
    site_title = _("KB Portal")
    index_title = _("Workbench")
    index_template = "admin/kb_index.html"
    # The lists need the width (they must fit 1440 px without scrolling sideways); the portal menu in the
    # header, the breadcrumbs and the workbench already lead everywhere the sidebar did.
    enable_nav_sidebar = False

    def login(self, request, extra_context=None):
        """Signing in without a destination lands on the person's own home, not always the admin."""
        from django.contrib.auth import REDIRECT_FIELD_NAME
        from django.urls import reverse

        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            extra_context = {REDIRECT_FIELD_NAME: reverse("home"), **(extra_context or {})}
        return super().login(request, extra_context)

    def index(self, request, extra_context=None):
        from apps.knowledge.selectors import work_queue_counts

        extra = extra_context or {}
        if request.user.has_perm("knowledge.view_article"):
            extra["queues"] = work_queue_counts(user=request.user)
        return super().index(request, extra)


class KBAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``KBAdminSite`` as ``admin.site``."""

    default_site = "apps.core.admin_site.KBAdminSite"
