"""``manage.py refit_confidence``: refit bot decisions from the knowledge base now (the job does it after
publishes); ``--export`` also writes the fit as the model shipped for knowledge bases not yet fitted."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from apps.answers.services.calibration import confidence_refit
from apps.answers.verifier import BUILTIN_FIT


class Command(BaseCommand):
    help = "Refit the confidence model and thresholds from the knowledge base and real outcomes."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="Refit even if nothing changed.")
        parser.add_argument("--export", action="store_true", help=f"Write the whole-KB fit to {BUILTIN_FIT.name}.")

    def handle(self, *args, force: bool, export: bool, **options) -> None:
        fits = confidence_refit(force=force or export)
        if fits is None:
            raise CommandError("Another refit is running; try again when it has finished.")
        if not fits:
            self.stdout.write("Nothing changed since the last fit (or nothing is indexed yet).")
            return
        for fit in fits:
            self.stdout.write(
                f"{fit.product or 'all products'}: {fit.examples} questions, {fit.pairs} pairs, "
                f"expected precision {fit.expected_precision:.1%} answering {fit.expected_answer_rate:.1%} "
                f"directly; suggestion threshold {fit.clarify_threshold:.3f} ({fit.seconds:.1f} s)"
            )
        if export:
            whole = next(f for f in fits if f.product_id is None)
            BUILTIN_FIT.write_text(
                json.dumps(
                    {"model": whole.model, "curve": whole.curve, "clarify_threshold": whole.clarify_threshold},
                    indent=1,
                )
                + "\n",
                encoding="utf-8",
            )
            self.stdout.write(f"Wrote {BUILTIN_FIT}.")
