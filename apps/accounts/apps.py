from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from apps.accounts import roles
        from apps.core.navigation import register_home

        # Administrators land in the admin; editors and approvers too (their knowledge queues are its
        # home page), by default. Other apps claim the other roles.
        register_home(
            url_name="admin:index",
            applies_to=roles.is_administrator,
            priority=0,
        )
