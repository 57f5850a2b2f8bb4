from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "apps.reviews"
    label = "reviews"
    verbose_name = _("Reviews")

    def ready(self) -> None:
        from apps.accounts import roles
        from apps.core.navigation import register_home, register_link
        from apps.core.scoping import register_scope
        from apps.reviews.selectors import access

        # The workspace's rules of who reads what hold in the admin (and any other door) too.
        register_scope("conversations.conversation", access.scope_conversations)
        for label in ("conversations.message", "qa.autoscore", "qa.finding", "reviews.calibrationitem"):
            register_scope(label, access.scope_conversation_parts)
        register_scope("qa.reviewtask", access.scope_review_tasks)
        register_scope("reviews.review", access.scope_reviews)
        register_scope("reviews.dispute", access.scope_disputes)
        register_scope("reviews.calibrationsession", access.scope_calibration_sessions)

        register_link(
            label=_("My queue"), url_name="reviews:queue", may_open=roles.is_qa_reviewer, order=10, icon="inbox"
        )
        register_link(
            label=_("Submitted by me"),
            url_name="reviews:submitted_by_me",
            may_open=roles.is_qa_reviewer,
            order=15,
            icon="task_alt",
        )
        register_link(
            label=_("My reviews"),
            url_name="reviews:my_reviews",
            may_open=access.may_use_workspace,
            order=20,
            icon="grading",
        )
        register_link(
            label=_("Disputes"), url_name="reviews:disputes", may_open=access.may_use_workspace, order=30, icon="gavel"
        )
        register_link(
            label=_("Calibration"),
            url_name="reviews:calibrations",
            may_open=access.may_use_workspace,
            order=40,
            icon="balance",
        )
        register_link(
            label=_("Reports"), url_name="reviews:reports", may_open=roles.is_qa_lead, order=50, icon="bar_chart"
        )
        register_home(url_name="reviews:queue", applies_to=roles.is_qa_reviewer, priority=20)
        register_home(url_name="reviews:my_reviews", applies_to=roles.is_agent, priority=30)
