from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "apps.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from apps.accounts import roles
        from apps.core.navigation import register_home, register_link

        register_link(
            label=_("Service"), url_name="insights:dashboard", may_open=roles.is_qa_lead, order=60, icon="monitoring"
        )
        register_link(
            label=_("Knowledge health"),
            url_name="insights:knowledge",
            may_open=roles.may_read_knowledge_health,
            order=70,
            icon="health_and_safety",
        )
        register_home(url_name="insights:dashboard", applies_to=roles.is_qa_lead, priority=10)  # QA leads
