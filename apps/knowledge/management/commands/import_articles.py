from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from apps.core.errors import DomainError
from apps.knowledge.formats import read_rows
from apps.knowledge.services.imports import ImportRejected, articles_import


class Command(BaseCommand):
    help = (
        "Import FAQ articles from a JSONL file (one JSON object a line), or .csv/.xlsx. Every row is validated "
        "first; with any invalid row nothing is imported unless --skip-invalid. Re-importing changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Path to .jsonl, .csv or .xlsx ('-' reads JSONL from stdin)")
        parser.add_argument("--draft", action="store_true", help="Import as drafts instead of publishing.")
        parser.add_argument("--skip-invalid", action="store_true", help="Import valid rows, report invalid ones.")
        parser.add_argument("--strict", action="store_true", help="Reject unknown products, categories, features.")
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing.")
        parser.add_argument("--user", help="Import as this user (their permissions apply). Default: operator.")

    def handle(self, *args, **options) -> None:
        path = options["file"]
        if path == "-":
            raw, name = sys.stdin.buffer.read(), "stdin.jsonl"
        else:
            file = Path(path)
            if not file.is_file():
                raise CommandError(_("No such file: %(path)s") % {"path": path})
            raw, name = file.read_bytes(), file.name
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(_("No such user: %(user)s") % {"user": options["user"]})
        try:
            report = articles_import(
                read_rows(name, raw),
                by=user,
                publish=not options["draft"],
                strict=options["strict"],
                skip_invalid=options["skip_invalid"],
                dry_run=options["dry_run"],
            )
        except ImportRejected as exc:
            for error in exc.report.errors:
                self.stderr.write(str(error))
            raise CommandError(_("Nothing imported: %(n)s invalid row(s).") % {"n": len(exc.report.errors)}) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for error in report.errors:
            self.stderr.write(_("skipped %(error)s") % {"error": error})
        for label, created in (
            (_("created products"), report.created_products),
            (_("created categories"), report.created_categories),
            (_("created features"), report.created_features),
        ):
            if created:
                self.stdout.write(f"{label}: {', '.join(created)}")
        prefix = _("dry run: ") if options["dry_run"] else ""
        self.stdout.write(self.style.SUCCESS(prefix + report.summary()))
