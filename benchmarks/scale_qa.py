"""Part 3 of the scale benchmark: QA scoring next to the bots' answer path — the case for separate ``qa``
workers.

Set-up: the answers benchmark's corpus (``bench_answers.build_corpus``: articles × 5 similar questions,
answer passages, random index vectors), the QA benchmark's scorecard (``bench_qa``: 30 rules, one over a
20,000-term lexicon), demo conversations stored through ``conversations_ingest``.

The bots: ``POST /api/v1/answers/`` on the real server (``scripts/serve.sh``: gunicorn, production settings,
one worker per core), questions no earlier run asked (each one embedded and retrieved), sent at a fixed
rate (open loop: arrivals do not wait for answers), client-side latency.

The scorers: processes that each loop ``conversations_score`` over batches of 500 conversations, as a
``celery -A kbportal worker -Q qa`` pool process does with the ``qa.score_conversations`` tasks that
ingestion queues (the broker round trip per 500 conversations is left out). Scoring the same conversations
again is the same work (one score per conversation and scorecard version, findings replaced).

Conditions, interleaved, each ``seconds`` long: one scorer alone (its capacity); then at each bot rate: bots
alone, bots with one scorer, bots with two scorers (a worker with ``--concurrency 2`` on this 2-core machine).
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from common import (
    free_port,
    percentiles,
    production_env,
    reset_knowledge,
    start_server,
    stop_process_group,
    wait_until_serving,
)
from scale_data import sql
from scale_procs import Meter, Window, run_together

CONDITIONS = ("bots alone", "1 scorer alone", "bots + 1 scorer", "bots + 2 scorers")
TOPICS = ["退款", "物流", "会员", "优惠券", "发票", "价保", "账号", "支付", "售后", "纸尿裤尺码", "奶粉", "提现"]
ASKS = ["多久能到账", "怎么申请", "在哪里查看", "为什么失败了", "可以取消吗", "要手续费吗", "规则是什么", "能叠加吗"]


def _quiet_import(name: str):
    """Import a sibling benchmark without it reading this process's command line."""
    argv, sys.argv = sys.argv, sys.argv[:1]
    try:
        return __import__(name)
    finally:
        sys.argv = argv


# --- set-up ----------------------------------------------------------------------------------------------


def build_corpus(articles: int) -> float | None:
    """Seconds to build it; None when the corpus of an earlier run is there (identical by construction)."""
    from apps.answers.models import QuestionEntry
    from apps.knowledge.models import ArticleVersion

    if (
        QuestionEntry.objects.filter(is_answer=True).count() >= articles
        and ArticleVersion.objects.filter(status="published").count() == articles
        and ArticleVersion.objects.count() == articles
    ):
        return None
    bench_answers = _quiet_import("bench_answers")
    bench_answers.N = articles
    reset_knowledge()
    started = time.perf_counter()
    bench_answers.build_corpus()
    return time.perf_counter() - started


def build_qa(conversations: int) -> tuple[list[int], int]:
    """Demo conversations, the QA benchmark's lexicons, rules and published scorecard; (ids, messages)."""
    from apps.catalog.models import Product
    from apps.conversations.services.ingest import conversations_ingest
    from apps.demo.conversations import generate_conversations
    from apps.qa.models import Lexicon, Rule
    from apps.qa.services.lexicons import lexicon_add_terms
    from apps.qa.services.scorecards import scorecard_import, scorecard_version_publish

    bench_qa = _quiet_import("bench_qa")
    sql(
        "TRUNCATE qa_finding, qa_autoscore, qa_reviewtask, qa_samplingrun, qa_samplingplan, qa_criterion, "
        "qa_section, qa_scorecardversion, qa_scorecard_teams, qa_scorecard_channels, qa_scorecard, qa_rule, "
        "qa_lexiconterm, qa_lexicon, conversations_message, conversations_conversation, conversations_customer "
        "RESTART IDENTITY CASCADE"
    )
    for slug in ("mall-app", "wallet-app"):
        Product.objects.get_or_create(slug=slug, defaults={"name": slug})
    batch = []
    for item in generate_conversations(conversations, seed=5):
        batch.append(item)
        if len(batch) == 1000:
            conversations_ingest(batch, durable=False, backfill=True)
            batch = []
    if batch:
        conversations_ingest(batch, durable=False, backfill=True)
    for code, terms in (
        ("big", bench_qa.big_lexicon(20_000)),
        ("forbidden", bench_qa.FORBIDDEN),
        ("complaint", bench_qa.COMPLAINT),
        ("sensitive", bench_qa.SENSITIVE),
        ("greeting", bench_qa.GREETING),
        ("closing", bench_qa.CLOSING),
    ):
        lexicon = Lexicon.objects.create(code=code, name=code)
        lexicon_add_terms(lexicon, terms)
    for n, tree in enumerate(bench_qa.RULES):
        Rule.objects.create(code=f"rule-{n}", name=f"rule {n}", condition=tree, severity="minor")
    card = {
        "format": "kbportal.scorecard/1",
        "name": "scale",
        "sections": [
            {
                "title": "all",
                "criteria": [
                    {"title": f"c{n}", "mode": "automatic", "points": 10, "rule": f"rule-{n}"}
                    for n in range(len(bench_qa.RULES))
                ],
            }
        ],
    }
    scorecard_version_publish(scorecard_import(card))
    ids = [pk for (pk,) in sql("SELECT id FROM conversations_conversation ORDER BY id")]
    messages = sql("SELECT count(*) FROM conversations_message")[0][0]
    sql("VACUUM (ANALYZE) conversations_message")
    sql("VACUUM (ANALYZE) conversations_conversation")
    return ids, messages


# --- the loads --------------------------------------------------------------------------------------------


def scorer_loop(window: Window, ids: list[int], part: int, parts: int) -> dict:
    from apps.qa.services.scoring import conversations_score

    mine = ids[part::parts]
    conversations_score(mine[:20])  # rules compiled once, as in a long-running worker
    meter = Meter()
    window.wait()
    meter.start()
    position = 0
    while window.open():
        batch = mine[position : position + 500] or mine[:500]
        position = position + 500 if position + 500 < len(mine) else 0
        started = time.perf_counter()
        meter.units += conversations_score(batch)
        meter.busy += time.perf_counter() - started
    return meter.result()


def bot_load(window: Window, *, port: int, key: str, rate: float, salt: str) -> dict:
    """Questions sent at ``rate`` per second through the window, each on a pooled keep-alive connection."""
    local = threading.local()
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def ask(n: int) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = {"question": f"{TOPICS[n % len(TOPICS)]}{ASKS[(n * 7) % len(ASKS)]}呢 {salt}{n}", "channel": "wechat"}
        headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            conn.request(
                "POST", "/api/v1/answers/", body=json.dumps(body, ensure_ascii=False).encode(), headers=headers
            )
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError as exc:
            local.conn = None
            with lock:
                failures.append(repr(exc))
            return
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            if status != 200:
                failures.append(str(status))

    window.wait()
    sent = 0
    with ThreadPoolExecutor(max_workers=48) as pool:
        while True:
            due = window.begin + sent / rate
            if due >= window.end:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(ask, sent)
            sent += 1
    return {
        "sent": sent,
        "answered": len(latencies),
        "failures": failures[:10],
        "failed": len(failures),
        **percentiles(latencies),
        "latencies_ms": latencies,
    }


def condition_names(rates: list[float]) -> list[str]:
    """The conditions in the order they run: "1 scorer alone" once, the others at every bot rate."""
    names = []
    for n, rate in enumerate(rates):
        for name in CONDITIONS:
            if name == "1 scorer alone":
                if n == 0:
                    names.append(name)
            else:
                names.append(f"{name} @ {rate:g}/s")
    return names


def measure(*, articles: int, conversations: int, seconds: float, rounds: int, rates: list[float], log) -> dict:
    from apps.answers.models import QuestionEntry
    from apps.apikeys.services import api_key_issue

    corpus_seconds = build_corpus(articles)
    entries = QuestionEntry.objects.count()
    started = time.perf_counter()
    ids, messages = build_qa(conversations)
    qa_seconds = time.perf_counter() - started
    built = "from an earlier run" if corpus_seconds is None else f"built in {corpus_seconds:.0f} s"
    log(
        f"  corpus: {articles:,} articles, {entries:,} index entries ({built}); "
        f"{len(ids):,} demo conversations, {messages:,} messages (stored in {qa_seconds:.0f} s)"
    )
    key = api_key_issue(name="scale", scopes=["answers"], rate_limit_per_minute=10**6).plaintext
    port = free_port()
    env = production_env(port=port, SECURE_SSL_REDIRECT="0", KBPORTAL_DB_NAME=os.environ["KBPORTAL_DB_NAME"])
    from django.db import connections

    connections.close_all()
    server = start_server(env)
    names = condition_names(rates)
    runs: dict[str, list[dict]] = {name: [] for name in names}
    try:
        wait_until_serving(server, port)
        warm = Window(time.monotonic(), time.monotonic() + 4)
        bot_load(warm, port=port, key=key, rate=8, salt=f"warm{time.time_ns()}-")  # every worker loads its model
        for round_ in range(rounds):
            for name in names:
                salt = f"r{round_}-{len(runs[name])}-{time.time_ns()}-"
                scorers = 2 if "2 scorers" in name else 1 if "scorer" in name else 0
                jobs = [(f"scorer {n + 1}", scorer_loop, (ids, n, scorers)) for n in range(scorers)]
                rate = float(name.rsplit("@ ", 1)[1].removesuffix("/s")) if "@" in name else 0.0

                def bots(window: Window, salt: str = salt, rate: float = rate) -> dict:
                    return bot_load(window, port=port, key=key, rate=rate, salt=salt)

                load = os.getloadavg()[0]
                result = run_together(jobs, seconds=seconds, during=None if name == "1 scorer alone" else bots)
                result["loadavg_before"] = load
                runs[name].append(result)
                scored = sum(r["units"] / r["wall_seconds"] for job, r in result.items() if job.startswith("scorer"))
                line = f"    round {round_ + 1} {name:<24}"
                if "during" in result:
                    b = result["during"]
                    line += (
                        f" answers p50 {b['p50']:6.1f} ms p95 {b['p95']:6.1f} ms ({b['answered']}/{b['sent']}, "
                        f"{b['failed']} failed)"
                    )
                if scored:
                    line += f" scoring {scored:,.0f} conv/s"
                log(line)
    finally:
        stop_process_group(server)
    return {
        "articles": articles,
        "index_entries": entries,
        "conversations": len(ids),
        "messages": messages,
        "rates_per_second": rates,
        "summary": summarize(runs),
        "runs": {name: [_without_latencies(result) for result in results] for name, results in runs.items()},
    }


def _without_latencies(result: dict) -> dict:
    return {
        job: {k: v for k, v in r.items() if k != "latencies_ms"} if isinstance(r, dict) else r
        for job, r in result.items()
    }


def summarize(runs: dict[str, list[dict]]) -> dict:
    out = {}
    for name, results in runs.items():
        row: dict = {"loadavg_before": [r["loadavg_before"] for r in results]}
        if "during" in results[0]:
            pooled = [lat for r in results for lat in r["during"]["latencies_ms"]]
            row.update({f"answers_{k}": v for k, v in percentiles(pooled).items()})
            row["answers_failed"] = sum(r["during"]["failed"] for r in results)
            row["answers_sent"] = sum(r["during"]["sent"] for r in results)
        scorers = [job for job in results[0] if job.startswith("scorer")]
        if scorers:
            row["scoring_per_second"] = statistics.median(
                sum(r[job]["units"] / r[job]["wall_seconds"] for job in scorers) for r in results
            )
            row["scoring_per_process_cpu_second"] = statistics.median(
                sum(r[job]["units"] for job in scorers) / sum(r[job]["cpu_seconds"] for job in scorers) for r in results
            )
            row["scoring_db_cpu_per_conversation_ms"] = statistics.median(
                1000 * sum(r[job]["db_cpu_seconds"] or 0 for job in scorers) / sum(r[job]["units"] for job in scorers)
                for r in results
            )
        out[name] = row
    return out
