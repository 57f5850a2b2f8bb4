from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.knowledge.services.demo import load_demo_data


class Command(BaseCommand):
    help = "Load the demo products, releases, FAQ articles and scripts (safe to run again)."

    def handle(self, *args, **options) -> None:
        summary = load_demo_data()
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
