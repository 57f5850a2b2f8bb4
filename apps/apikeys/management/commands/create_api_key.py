from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from apps.apikeys.scopes import SCOPES
from apps.apikeys.services import api_key_issue
from apps.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API key and print it once. Example: create_api_key ci-bot --scopes releases:write answers"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--scopes", nargs="+", required=True, help=f"One or more of: {', '.join(SCOPES)}")
        parser.add_argument("--rate-limit", type=int, default=None, help="Requests per minute (default: site-wide).")

    def handle(self, *args, **options) -> None:
        try:
            issued = api_key_issue(
                name=options["name"], scopes=options["scopes"], rate_limit_per_minute=options["rate_limit"]
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            _("Created API key “%(name)s” with scopes %(scopes)s.")
            % {"name": issued.api_key.name, "scopes": ", ".join(issued.api_key.scopes)}
        )
        self.stderr.write(_("Store it now: it is shown only once."))
        self.stdout.write(issued.plaintext)
