from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "apps.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        """Listen to the apps below (a recorded release gets its stale check) and add the work queues to the
        admin home page."""
        from apps.catalog.follow_ups import register_follow_up
        from apps.catalog.signals import release_recorded
        from apps.core.admin_panels import register_index_panel
        from apps.knowledge.admin.home import work_queues_panel
        from apps.knowledge.services.stale import on_release_recorded, stale_check_done

        release_recorded.connect(on_release_recorded, dispatch_uid="knowledge.stale_check")
        register_follow_up("stale_check", is_done=stale_check_done)
        register_index_panel(
            "knowledge.work_queues",
            template="admin/knowledge/work_queues_panel.html",
            context=work_queues_panel,
            order=10,
        )
