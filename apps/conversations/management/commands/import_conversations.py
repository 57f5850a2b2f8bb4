from __future__ import annotations

import itertools
import multiprocessing
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from apps.conversations import writer
from apps.conversations.formats.files import Rejected, read_csv, read_jsonl_text
from apps.conversations.formats.wecom import read_wecom
from apps.conversations.services.ingest import MAX_BATCH, customer_bucket


class Command(BaseCommand):
    help = (
        "Import conversations from a file, streaming: --format jsonl (one conversation a line, as the REST API "
        "takes it), csv (one message a row) or wecom (WeChat customer service kf/sync_msg dumps). Importing the "
        "same file again adds nothing; bad conversations are reported with their line numbers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Path to the file ('-' reads standard input).")
        parser.add_argument("--format", choices=["jsonl", "csv", "wecom"], default="jsonl")
        parser.add_argument("--batch-size", type=int, default=MAX_BATCH, help="Conversations per transaction.")
        parser.add_argument("--idle-minutes", type=int, default=30, help="wecom: a new conversation after this gap.")
        parser.add_argument("--product", help="wecom: product slug of the conversations.")
        parser.add_argument("--team", help="wecom: team of the conversations.")
        parser.add_argument("--writers", type=int, default=2, help="Writer processes (one connection each).")
        parser.add_argument("--quiet", action="store_true", help="No progress lines.")
        parser.add_argument(
            "--backfill",
            action="store_true",
            help=(
                "A backfill: store the conversations without queueing them for QA scoring. The qa.score_unscored "
                "sweeper (every 10 minutes, while a scorecard is published) queues up to 50,000 conversations "
                "changed in the last 3 hours that have no up-to-date score; for what it does not reach, start a "
                "rescoring job over the conversations' dates in the QA admin."
            ),
        )

    def handle(self, *args, **options) -> None:
        path = options["file"]
        if path != "-" and not Path(path).is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        if not 1 <= options["writers"] <= 8:
            raise CommandError(_("--writers must be 1 to 8."))
        if not 1 <= options["batch_size"] <= MAX_BATCH:
            raise CommandError(_("--batch-size must be 1 to %(n)s.") % {"n": MAX_BATCH})
        handle = sys.stdin if path == "-" else open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        try:
            totals = self._import(self._read(handle, options), options)
        finally:
            if handle is not sys.stdin:
                handle.close()
        self.stdout.write(
            self.style.SUCCESS(
                _("%(created)s imported, %(updated)s updated, %(rejected)s rejected; %(messages)s new messages.")
                % totals
            )
        )

    def _read(self, handle, options):
        if options["format"] == "csv":
            return read_csv(handle)
        if options["format"] == "wecom":
            return read_wecom(
                handle, idle_minutes=options["idle_minutes"], product=options["product"], team=options["team"]
            )
        return read_jsonl_text(handle)

    def _import(self, items, options) -> dict[str, int]:
        """Pipelined and parallel: writer processes (each with its own database connection, and its own
        interpreter, so checking and masking run on every core) check, mask and store the current batch
        while the next is read here. A batch is split among the writers by customer, so one customer's
        conversations (and the repeat contacts between them) always go through the same writer and
        writers never wait on each other's rows. JSON lines travel to the writers as text: decoding them
        there, not here, spares this process the decoding and both sides the pickling of the objects."""
        totals = {"created": 0, "updated": 0, "rejected": 0, "messages": 0}
        started = time.monotonic()
        items = iter(items)
        # Inside a caller's transaction (call_command from code or tests) the writes must join it: no process.
        parallel = not connection.in_atomic_block
        count = options["writers"] if parallel else 1
        # Writers are started fresh ("spawn", not fork: a fork copies whatever locks other threads of this
        # process hold, and can hang), then set up Django on the same database as this process.
        spawn = multiprocessing.get_context("spawn")
        database = connection.settings_dict["NAME"]
        writers = [
            ProcessPoolExecutor(max_workers=1, mp_context=spawn, initializer=writer.setup, initargs=(database,))
            if parallel
            else _SameThread()
            for _ in range(count)
        ]
        pending: list[tuple] = []
        try:
            while batch := list(itertools.islice(items, options["batch_size"])):
                parts: list[list[tuple[int, dict]]] = [[] for _ in writers]
                for item in batch:
                    if isinstance(item, Rejected):
                        totals["rejected"] += 1
                        self.stderr.write(_("line %(line)s: %(error)s") % {"line": item.line, "error": item.error})
                    else:
                        parts[_partition(item[1], count)].append(item)
                submitted = [
                    (
                        pool.submit(
                            writer.prepare_and_store, [payload for _line, payload in part], options["backfill"]
                        ),
                        part,
                    )
                    for pool, part in zip(writers, parts, strict=True)
                    if part
                ]
                for future, part in pending:
                    self._tally(future.result(), part, totals, started, options)
                pending = submitted
            for future, part in pending:
                self._tally(future.result(), part, totals, started, options)
        finally:
            for pool in writers:
                pool.shutdown()
        return totals

    def _tally(self, results, good, totals, started, options) -> None:
        for (line, _payload), result in zip(good, results, strict=True):
            if result.status == "rejected":
                totals["rejected"] += 1
                details = "; ".join(
                    " ".join(errors) if field == "non_field_errors" else f"{field}: {' '.join(errors)}"
                    for field, errors in result.errors.items()
                )
                self.stderr.write(_("line %(line)s: %(error)s") % {"line": line, "error": details})
            else:
                totals[result.status] += 1
                totals["messages"] += result.messages_added
        if not options["quiet"]:
            done = totals["created"] + totals["updated"] + totals["rejected"]
            rate = done / max(time.monotonic() - started, 1e-9)
            self.stderr.write(_("… %(done)s conversations (%(rate).0f/s)") % {"done": done, "rate": rate})


_CUSTOMER_IN_JSON = re.compile(r'"customer"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _partition(payload: object, count: int) -> int:
    """The writer of a conversation: by its customer's lock bucket, so that writers never wait on each
    other's locks (``apps.conversations.services.ingest``). JSON text is not decoded here; its customer is
    found by a pattern, which an unusual line may fool: that costs a wait for a lock, never correctness."""
    if count == 1:
        return 0
    if isinstance(payload, str):
        match = _CUSTOMER_IN_JSON.search(payload)
        customer = match.group(1) if match else None
    else:
        customer = payload.get("customer") if isinstance(payload, dict) else None
    if isinstance(customer, str) and customer:
        return customer_bucket(customer) % count
    return hash(str(payload)) % count  # no customer, no lock: any writer, spread evenly


class _SameThread:
    """The executor interface, running each task at once in this thread."""

    def __enter__(self) -> _SameThread:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def submit(self, fn, *args):
        from concurrent.futures import Future

        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - re-raised by Future.result(), like a real executor
            future.set_exception(exc)
        return future
