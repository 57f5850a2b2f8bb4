from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.insights.services.rollups import all_days, rollup_days_rebuild, rollups_refresh_pending


class Command(BaseCommand):
    help = (
        "Bring the dashboards' daily rollups up to date (what the insights.rollup_pending task does every five "
        "minutes); --all rebuilds every day."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="Rebuild every day, not only the changed ones.")

    def handle(self, *args, **options) -> None:
        days = rollup_days_rebuild(all_days()) if options["all"] else rollups_refresh_pending()
        self.stdout.write(_("%(n)s days rebuilt.") % {"n": days})
