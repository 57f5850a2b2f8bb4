from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnswersConfig(AppConfig):
    name = "apps.answers"
    label = "answers"
    verbose_name = _("Bot answers")

    def ready(self) -> None:
        """Listen to knowledge (what bots may see changed) and add the gaps link to the admin home page."""
        from apps.answers.receivers import knowledge_gaps_panel, on_published_knowledge_changed
        from apps.core.admin_panels import register_index_panel
        from apps.knowledge.signals import published_knowledge_changed

        published_knowledge_changed.connect(on_published_knowledge_changed, dispatch_uid="answers.index")
        register_index_panel(
            "answers.knowledge_gaps",
            template="admin/answers/knowledge_gaps_panel.html",
            context=knowledge_gaps_panel,
            order=20,
        )
