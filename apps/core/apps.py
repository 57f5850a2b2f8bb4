from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from apps.core.navigation import register_link

        register_link(
            label=_("Admin"), url_name="admin:index", may_open=lambda user: user.is_staff, order=90, icon="dashboard"
        )
