from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from apps.demo.conversations import load_demo_conversations
from apps.demo.knowledge import load_demo_knowledge
from apps.demo.qa import load_demo_qa
from apps.demo.users import load_demo_users
from apps.insights.services.rollups import rollups_refresh_pending

DEFAULT_CONVERSATIONS = 3000


class Command(BaseCommand):
    help = (
        "Load the demo: one user per role (printing their passwords; never in production), products, releases, "
        "articles and scripts, realistic Chinese conversations, the QA setup (lexicons, rules, a scorecard, a "
        "daily sampling plan) with every conversation scored and every day sampled, and the dashboards' rollups. "
        "Loading it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--conversations",
            type=int,
            default=DEFAULT_CONVERSATIONS,
            help=f"How many demo conversations to store (default {DEFAULT_CONVERSATIONS}; the same ones each time).",
        )

    def handle(self, *args, **options) -> None:
        if options["conversations"] < 0:
            raise CommandError(_("--conversations must not be negative."))
        self._users()
        self._knowledge()
        self._conversations(options["conversations"])
        counts = load_demo_qa()
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "QA demo: %(lexicons)s lexicons (%(terms)s terms), %(rules)s rules, "
                    "%(scored)s conversations scored, %(tasks)s review tasks."
                )
                % counts
            )
        )
        self.stdout.write(_("%(n)s days rebuilt.") % {"n": rollups_refresh_pending()})

    def _users(self) -> None:
        logins = load_demo_users()
        self.stdout.write(_("Demo users (username / password / role):"))
        for login in logins:
            self.stdout.write(f"  {login.username:<9} {login.password:<22} {login.role}")

    def _knowledge(self) -> None:
        summary = load_demo_knowledge()
        self.stdout.write(
            _(
                "Demo data: articles %(articles)s; %(scripts)s scripts created; %(releases)s releases recorded; "
                "%(flags)s stale flags raised."
            )
            % {
                "articles": summary.articles,
                "scripts": summary.scripts_created,
                "releases": summary.releases_created,
                "flags": summary.stale_flags,
            }
        )

    def _conversations(self, count: int) -> None:
        def progress(stored: int, rate: float) -> None:
            self.stderr.write(_("… %(n)s conversations (%(rate).0f/s)") % {"n": stored, "rate": rate})

        totals = load_demo_conversations(count, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(_("%(created)s created, %(updated)s already there, %(rejected)s rejected.") % totals)
        )
