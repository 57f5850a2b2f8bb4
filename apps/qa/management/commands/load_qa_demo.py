from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.qa.demo import load_qa_demo


class Command(BaseCommand):
    help = (
        "Load the demo QA setup (lexicons, rules, a scorecard and a daily sampling plan), score every "
        "conversation and sample every day that has conversations. Running it again adds nothing."
    )

    def handle(self, *args, **options) -> None:
        counts = load_qa_demo()
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "QA demo: %(lexicons)s lexicons (%(terms)s terms), %(rules)s rules, "
                    "%(scored)s conversations scored, %(tasks)s review tasks."
                )
                % counts
            )
        )
