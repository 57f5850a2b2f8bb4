"""The load test's data: a fresh database holding what the demo holds (products, releases, published articles
indexed for bots, a published QA scorecard, reviewers with review tasks), API keys for the clients, and the
payloads they send.

Everything is made through the same services as ``make demo`` (``apps.demo``: ``load_demo_users``,
``load_demo_knowledge``, ``load_demo_conversations``, ``load_demo_qa``) and the commands ``index_answers`` and
``refit_confidence``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT

# The demo's ``reviewer`` and seven more (demo-style passwords: a throw-away database on loopback). The
# sampling plan shares the review tasks among all of them.
REVIEWERS = [(name, f"{name}-demo-2026") for name in ["reviewer", *(f"reviewer{n}" for n in range(2, 9))]]
SETUP_CONVERSATIONS = 900  # 30 days of history: the daily sampling plan turns them into review tasks
RELEASE = {"product": "mall-app", "version": "5.4.0", "changed_features": ["refund", "coupon"]}


@dataclass
class LoadData:
    bot_key: str
    ingest_key: str
    release_key: str
    reviewers: list[tuple[str, str]]  # username, password
    repeated_questions: list[str]
    stems: list[str]  # what new questions are made of
    counts: dict[str, int] = field(default_factory=dict)


def refuse_foreign_services() -> None:
    """The load test drops its database and empties its Redis: only its own embedded services qualify."""
    if os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL"):
        raise SystemExit("The load test runs on its own embedded services: unset DATABASE_URL and REDIS_URL.")
    from kbportal import embedded

    if embedded.data_dir() == (ROOT / ".data").resolve():
        raise SystemExit(
            "KBPORTAL_DATA_DIR is the development data directory; the load test needs its own "
            "(scripts/load.sh uses .data/load)."
        )


TEMPLATE_SUFFIX = "_template"


# What never runs while the template is built (the web and admin layers): changing it keeps the template.
_NOT_IN_BUILD = {
    "__pycache__",
    "api",
    "admin",
    "templates",
    "templatetags",
    "static",
    "admin.py",
    "views.py",
    "urls.py",
}


def fingerprint() -> str:
    """Changes with any code or data the template is built with: migrations, models, services, commands,
    demo content, settings, this module."""
    digest = hashlib.sha256()
    paths = [
        *sorted((ROOT / "apps").rglob("*")),
        *sorted((ROOT / "demo").rglob("*")),
        *sorted((ROOT / "kbportal").glob("*.py")),
        Path(__file__),
    ]
    for path in paths:
        if path.is_file() and not _NOT_IN_BUILD.intersection(path.relative_to(ROOT).parts):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _maintenance():
    """A connection to the embedded server's ``postgres`` database (started if need be)."""
    import psycopg

    from kbportal import embedded

    server = embedded.postgres_database("postgres")
    return psycopg.connect(host=server["HOST"], dbname="postgres", user="postgres", autocommit=True)


def fresh_database(name: str) -> bool:
    """Empty the embedded Redis and make database ``name`` anew, before Django starts. From the template a
    previous run built when its fingerprint matches (a copy, seconds), else empty: Django's settings create
    it, and :func:`build` fills it. Returns whether it was copied from the template."""
    import redis

    from kbportal import embedded

    template = name + TEMPLATE_SUFFIX
    redis.Redis.from_url(embedded.redis_url()).flushall()
    with _maintenance() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
        if os.environ.get("LOAD_REBUILD", "") not in ("", "0") or row is None or row[0] != fingerprint():
            conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            return False
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return True


def save_template(name: str) -> None:
    """Keep the database :func:`build` filled as the next runs' template (nobody may be connected to it)."""
    from django.db import connections

    connections.close_all()
    template = name + TEMPLATE_SUFFIX
    with _maintenance() as conn:
        conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}" STRATEGY FILE_COPY')
        conn.execute(f"COMMENT ON DATABASE \"{template}\" IS '{fingerprint()}'")


@contextlib.contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start


def build() -> dict[str, float]:
    """Fill the (migrated, empty) database Django is set up on with the demo's data; seconds per part."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from apps.accounts.roles import QA_REVIEWER
    from apps.demo.conversations import load_demo_conversations
    from apps.demo.knowledge import load_demo_knowledge
    from apps.demo.qa import load_demo_qa
    from apps.demo.users import load_demo_users

    timings: dict[str, float] = {}
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    with _timed(timings, "users"):
        load_demo_users()
        group = Group.objects.get(name=QA_REVIEWER)
        for username, password in REVIEWERS[1:]:
            user = get_user_model().objects.create_user(username, password=password, is_staff=True)
            user.groups.set([group])
    with _timed(timings, "demo knowledge"):
        load_demo_knowledge()
    with _timed(timings, "history conversations"):
        load_demo_conversations(SETUP_CONVERSATIONS, seed=11)
    with _timed(timings, "QA demo (score, sample)"):  # before: the sampling plan takes every reviewer there is
        load_demo_qa()
    with _timed(timings, "bot index (embeddings)"):
        call_command("index_answers", **quiet)
    with _timed(timings, "bot decisions refit"):
        call_command("refit_confidence", "--force", **quiet)
    return timings


def prepare_run() -> LoadData:
    """This run's API keys and questions, and what the database holds."""
    from django.db import connection

    from apps.apikeys.services import api_key_issue
    from apps.conversations.models import Conversation
    from apps.knowledge.models import ArticleVersion
    from apps.qa.models import ReviewTask, ScorecardVersion

    unlimited = 10**7  # per minute: the load measures the server, not the keys' rate limits
    keys = {
        scope: api_key_issue(name=f"load {scope}", scopes=[scope], rate_limit_per_minute=unlimited).plaintext
        for scope in ("answers", "conversations:write", "releases:write")
    }
    repeated, stems = _questions()
    counts = {
        "published articles": ArticleVersion.objects.filter(status="published").count(),
        "history conversations": Conversation.objects.count(),
        "published scorecard versions": ScorecardVersion.objects.filter(status="published").count(),
        "review tasks": ReviewTask.objects.count(),
        "reviewers with tasks": ReviewTask.objects.values("assignee").distinct().count(),
    }
    connection.close()  # the driver holds no connection while the load runs (pg_stat_activity counts the server's)
    return LoadData(
        bot_key=keys["answers"],
        ingest_key=keys["conversations:write"],
        release_key=keys["releases:write"],
        reviewers=list(REVIEWERS),
        repeated_questions=repeated,
        stems=stems,
        counts=counts,
    )


def purge_broker() -> None:
    """Empty the broker and the results: what set-up enqueued (indexing, refits, stale checks) it also ran
    in-process, so the worker starts with nothing queued and everything it does is the load's."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    redis.Redis.from_url(settings.CELERY_RESULT_BACKEND).flushdb()


def _questions() -> tuple[list[str], list[str]]:
    """Repeated questions: customers' phrasings from the demo articles (the bots' cache serves them after
    the first time). Stems for new questions: the same phrasings, each made unique per request."""
    rows = [json.loads(line) for line in (ROOT / "demo" / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    phrasings = [q for row in rows for q in [row["standard_question"], *row["similar_questions"]]]
    rng = random.Random(5)
    return rng.sample(phrasings, 60), phrasings


# Words a customer adds around a question; combined with a counter, each new question is one no cache has seen.
_OPENERS = ["你好，", "请问", "麻烦问下", "客服，", "在吗？", "急！", "亲，", ""]
_TAILS = ["", "谢谢", "怎么回事", "能帮我看看吗", "我等了好久了", "第一次用不太懂"]


def new_question(stems: list[str], n: int, rng: random.Random) -> str:
    return f"{rng.choice(_OPENERS)}{rng.choice(stems)}{rng.choice(_TAILS)}（订单尾号{n:06d}）"


class ConversationSource:
    """Conversation payloads with external ids unique to this run (``load-<run>-<n>``), thread-safe.

    The demo generator's realistic mix (bots, handoffs, complaints, personal data to mask), dated over the
    last day, in rounds of 3,000 conversations among 1,000 customers: the same customers come back round
    after round, so concurrent batches often hold the same customer (repeat contacts, customer locks).
    """

    ROUND = 3000

    def __init__(self, run_id: str) -> None:
        import threading

        self.run_id = run_id
        self._lock = threading.Lock()
        self._round = 0
        self._stream = self._next_round()
        self._n = 0

    def _next_round(self):
        from apps.demo.conversations import generate_conversations

        self._round += 1
        seed = int(self.run_id, 16) % 10**6 + self._round
        return generate_conversations(self.ROUND, seed=seed, start=datetime.now(UTC), days=1)

    def batch(self, size: int) -> list[dict]:
        with self._lock:
            items = []
            while len(items) < size:
                conversation = next(self._stream, None)
                if conversation is None:
                    self._stream = self._next_round()
                    continue
                self._n += 1
                conversation["external_id"] = f"load-{self.run_id}-{self._n}"
                items.append(conversation)
            return items


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1))
