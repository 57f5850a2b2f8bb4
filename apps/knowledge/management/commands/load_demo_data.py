from django.core.management.base import BaseCommand

from apps.knowledge.services.demo import load_demo_data


class Command(BaseCommand):
    help = "Load the demo products, releases, FAQ articles and scripts (safe to run again)."

    def handle(self, *args, **options) -> None:
        summary = load_demo_data()
        self.stdout.write(
            f"Demo data: articles {summary.articles}; {summary.scripts_created} scripts created; "
            f"{summary.releases_created} releases recorded; {summary.stale_flags} stale flags raised."
        )
