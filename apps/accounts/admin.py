"""People and roles in the admin theme: Django's user and group admins with the theme's forms, and
permissions named in the reader's language (Django stores their names in English, once, at migrate time)."""

from axes.models import AccessAttempt
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from apps.core.admin_base import ModelAdmin

# Django's own admin catalog translates these four words.
_DEFAULT_ACTIONS = {"add": _("Add"), "change": _("Change"), "delete": _("Delete"), "view": _("View")}


def permission_label(permission: Permission) -> str:
    """ "知识库 · FAQ 知识 · 查看" for a default permission; a custom one by its (translated) name."""
    app_label, model_name = permission.content_type.app_label, permission.content_type.model
    try:
        app = apps.get_app_config(app_label)
        model = app.get_model(model_name)
    except LookupError:
        return gettext(permission.name)
    action, _sep, rest = permission.codename.partition("_")
    what = gettext(permission.name)
    if rest == model_name and action in _DEFAULT_ACTIONS:
        what = _DEFAULT_ACTIONS[action]
    return f"{capfirst(app.verbose_name)} · {capfirst(model._meta.verbose_name)} · {what}"


class _TranslatedPermissions:
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name in {"permissions", "user_permissions"}:
            # Not the permissions of models that no longer exist (their content types linger after a removal).
            live = [ct.pk for ct in ContentType.objects.all() if ct.model_class() is not None]
            field.queryset = field.queryset.filter(content_type__in=live).select_related("content_type")
            field.label_from_instance = permission_label
        return field


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(_TranslatedPermissions, BaseUserAdmin, ModelAdmin):
    sidebar_icon = "person"
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class GroupAdmin(_TranslatedPermissions, BaseGroupAdmin, ModelAdmin):
    sidebar_icon = "group"


@admin.register(AccessAttempt)
class LockoutAdmin(ModelAdmin):
    """Failed sign-ins per username and address; deleting a row unlocks it at once."""

    sidebar_icon = "lock_person"
    list_display = ["username", "ip_address", "failures_since_start", "attempt_time"]
    search_fields = ["username", "ip_address"]
    readonly_fields = ["username", "ip_address", "user_agent", "failures_since_start", "attempt_time"]
    fields = readonly_fields
    actions = ["unlock"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Unlock (clear the failed attempts)"), permissions=["delete"])
    def unlock(self, request, queryset) -> None:
        count = queryset.count()
        queryset.delete()
        self.message_user(request, _("%(n)s unlocked.") % {"n": count})
