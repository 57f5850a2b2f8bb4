from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from apps.apikeys.models import ApiKey
from apps.apikeys.scopes import SCOPE_CHOICES
from apps.apikeys.services import api_key_issue, api_key_revoke, api_keys_changed
from apps.core.admin_base import ModelAdmin


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES, widget=UnfoldAdminCheckboxSelectMultipleWidget, label=gettext_lazy("scopes")
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "rate_limit_per_minute", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(ModelAdmin):
    sidebar_icon = "key"
    list_display = ["name", "masked", "scope_list", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]
    readonly_fields = ["masked", "scopes", "created_by", "created_at", "last_used_at", "revoked_at"]
    fields = [
        "name",
        "masked",
        "scopes",
        "rate_limit_per_minute",
        "expires_at",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
            kwargs["fields"] = ApiKeyCreateForm.Meta.fields
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ApiKeyCreateForm.Meta.fields if obj is None else self.fields

    @admin.display(description=gettext_lazy("key"))
    def masked(self, obj: ApiKey) -> str:
        return f"kbp_{obj.prefix}_••••••"

    @admin.display(description=gettext_lazy("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def delete_model(self, request, obj) -> None:
        """A deleted key stops at once in every process, as a revoked one does."""
        super().delete_model(request, obj)
        transaction.on_commit(api_keys_changed)

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(api_keys_changed)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            transaction.on_commit(api_keys_changed)  # every process reloads the key, once the change is there
            return
        issued = api_key_issue(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by=request.user,
            rate_limit_per_minute=form.cleaned_data.get("rate_limit_per_minute"),
            expires_at=form.cleaned_data.get("expires_at"),
        )
        form.instance = obj = issued.api_key
        messages.warning(
            request,
            _("Copy this key now, it will not be shown again: %(key)s") % {"key": issued.plaintext},
        )
        request.kbportal_issued_key = issued.api_key

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect(reverse("admin:apikeys_apikey_change", args=[request.kbportal_issued_key.pk]))

    @admin.action(description=gettext_lazy("Revoke selected keys"), permissions=["change"])
    def revoke(self, request, queryset) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        self.message_user(request, _("%(n)s key(s) revoked.") % {"n": queryset.count()}, messages.SUCCESS)
