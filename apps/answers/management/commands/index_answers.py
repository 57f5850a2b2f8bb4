from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.answers.services.index import index_rebuild, vocabulary_refresh


class Command(BaseCommand):
    help = "Index every published article version for bot answers now (the worker normally does this)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--refresh-vocabulary",
            action="store_true",
            help="Also recompute tokens (and re-embed where synonyms changed) for indexed entries.",
        )

    def handle(self, *args, **options) -> None:
        if options["refresh_vocabulary"]:
            self.stdout.write(_("%(n)s entries re-embedded after vocabulary changes.") % {"n": vocabulary_refresh()})
        self.stdout.write(_("%(n)s article versions indexed.") % {"n": index_rebuild()})
