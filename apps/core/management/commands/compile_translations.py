from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kbportal.i18n import compile_catalogs


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo in pure Python (no gettext tools needed)."

    def handle(self, *args, **options) -> None:
        count = sum(compile_catalogs(Path(locale_dir)) for locale_dir in settings.LOCALE_PATHS)
        self.stdout.write(_("Compiled %(n)s catalog(s).") % {"n": count})
