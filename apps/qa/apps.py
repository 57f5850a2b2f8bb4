from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QaConfig(AppConfig):
    name = "apps.qa"
    label = "qa"
    verbose_name = _("Quality assurance")

    def ready(self) -> None:
        from apps.conversations.signals import conversations_stored
        from apps.qa.receivers import score_stored_conversations

        conversations_stored.connect(score_stored_conversations, dispatch_uid="qa.score_stored_conversations")
