from __future__ import annotations

import itertools
import json
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from apps.catalog.models import Product
from apps.conversations.demo import generate_conversations
from apps.conversations.services.ingest import MAX_BATCH, ingest_conversations


class Command(BaseCommand):
    help = (
        "Create realistic Chinese demo conversations (mall and wallet products, bots and humans, handoffs, "
        "complaints, SLA breaches, personal data to mask). The same --seed gives the same conversations, so "
        "running it again adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--output", help="Write JSON Lines to this file instead of storing them.")

    def handle(self, *args, **options) -> None:
        count = options["count"]
        if count < 1:
            raise CommandError(_("--count must be at least 1."))
        conversations = generate_conversations(count, seed=options["seed"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                for conversation in conversations:
                    out.write(json.dumps(conversation, ensure_ascii=False) + "\n")
            self.stdout.write(self.style.SUCCESS(_("Wrote %(n)s conversations.") % {"n": count}))
            return
        missing = {"mall-app", "wallet-app"} - set(Product.objects.values_list("slug", flat=True))
        if missing:
            raise CommandError(
                _("Products %(slugs)s are missing: run load_demo_data first.") % {"slugs": ", ".join(sorted(missing))}
            )
        totals = {"created": 0, "updated": 0, "rejected": 0}
        started = time.monotonic()
        while batch := list(itertools.islice(conversations, MAX_BATCH)):
            for result in ingest_conversations(batch):
                totals[result.status] += 1
            self.stderr.write(
                _("… %(n)s conversations (%(rate).0f/s)")
                % {"n": sum(totals.values()), "rate": sum(totals.values()) / max(time.monotonic() - started, 1e-9)}
            )
        self.stdout.write(
            self.style.SUCCESS(_("%(created)s created, %(updated)s already there, %(rejected)s rejected.") % totals)
        )
