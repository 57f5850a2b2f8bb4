"""A bot keeping an offline copy polls ``GET /api/v1/articles/`` (a page of 50 over N published articles) with
``If-None-Match``; every CHANGE_EVERY polls an editor publishes a new version of one article. Reported side by
side in one run: the 304 rate, and the time and bytes of a 304 next to a 200 of the same page (and next to the
same 200 without ``If-None-Match``, i.e. what every poll cost before ETags).

In-process (Django's test client through the whole middleware and DRF stack, no network), on the benchmark
database: times are server time, bytes are the response body.

    python benchmarks/bench_polling.py [articles=1000] [polls=400] [change_every=20] [page_size=50]
"""

from __future__ import annotations

import dataclasses
import io
import json
import statistics
import sys
import time

from common import percentiles, report, reset_knowledge, setup_django

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
POLLS = int(sys.argv[2]) if len(sys.argv) > 2 else 400
CHANGE_EVERY = int(sys.argv[3]) if len(sys.argv) > 3 else 20
PAGE_SIZE = int(sys.argv[4]) if len(sys.argv) > 4 else 50


def build_corpus() -> None:
    from apps.knowledge.formats import read_jsonl
    from apps.knowledge.services.imports import articles_import

    lines = [
        json.dumps(
            {
                "external_id": f"poll-{n:05d}",
                "product": "mall-app",
                "category": "退款与售后",
                "features": ["refund"],
                "standard_question": f"退款多久到账？（第{n}条）",
                "similar_questions": [f"退款什么时候到 {n}-{k}" for k in range(5)],
                "answer": f"审核通过后 1–3 个工作日原路退回（{n}）。" * 4,
            },
            ensure_ascii=False,
        )
        for n in range(N)
    ]
    articles_import(read_jsonl(io.StringIO("\n".join(lines))))


def publish_a_change(n: int) -> None:
    """An editor publishes a new version of one article on the polled page."""
    from apps.knowledge.models import Article
    from apps.knowledge.services import workflow

    article = Article.objects.get(external_id=f"poll-{n % PAGE_SIZE:05d}")
    latest = article.versions.order_by("-number").first()
    content = workflow.content_of(latest)
    content = dataclasses.replace(content, answer=f"{content.answer}（更新 {n}）")
    version = workflow.version_create(item=article, base_number=latest.number, content=content, by=None)
    workflow.version_submit(version=version, by=None)
    workflow.version_publish(version=version, by=None)


def main() -> None:
    setup_django()
    from django.test import Client

    from apps.apikeys.services import api_key_issue

    reset_knowledge()
    build_corpus()
    key = api_key_issue(name="polling bench", scopes=["articles:read"], rate_limit_per_minute=1_000_000).plaintext
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    path = f"/api/v1/articles/?page_size={PAGE_SIZE}"

    def get(etag: str | None = None):
        headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
        start = time.perf_counter()
        response = client.get(path, **headers)
        return time.perf_counter() - start, response

    for _ in range(5):  # warm up: connections, caches, code paths
        get()
    etag = get()[1]["ETag"]
    samples: dict[int, list[tuple[float, int]]] = {200: [], 304: []}
    unconditional: list[tuple[float, int]] = []
    for n in range(POLLS):
        if n and n % CHANGE_EVERY == 0:
            publish_a_change(n)
        seconds, response = get(etag)
        samples[response.status_code].append((seconds, len(response.content)))
        etag = response["ETag"]
        if n % 4 == 0:  # the same page fetched the old way, interleaved so both see the same conditions
            seconds, response = get()
            unconditional.append((seconds, len(response.content)))

    def row(name: str, values: list[tuple[float, int]]) -> dict:
        times = [s * 1000 for s, _ in values]
        ms = percentiles(times)
        return {
            "name": name,
            "n": len(values),
            "mean_ms": statistics.mean(times) if times else 0.0,
            **{f"{k}_ms": v for k, v in ms.items()},
            "bytes": int(statistics.mean(b for _, b in values)) if values else 0,
        }

    rows = [row("304 (unchanged)", samples[304]), row("200 (changed)", samples[200])]
    rows.append(row("200 without If-None-Match", unconditional))
    rate = len(samples[304]) / POLLS
    lines = [
        f"{N} published articles, page of {PAGE_SIZE}, {POLLS} polls, 1 change every {CHANGE_EVERY} polls",
        f"304 rate: {rate:.1%} ({len(samples[304])}/{POLLS})",
        f"{'response':28} {'n':>5} {'mean ms':>8} {'p50 ms':>7} {'p95 ms':>7} {'bytes':>8}",
    ]
    for r in rows:
        lines.append(
            f"{r['name']:28} {r['n']:>5} {r['mean_ms']:>8.2f} {r['p50_ms']:>7.2f} {r['p95_ms']:>7.2f} {r['bytes']:>8}"
        )
    report(
        "polling", lines, {"articles": N, "polls": POLLS, "change_every": CHANGE_EVERY, "rate_304": rate, "rows": rows}
    )


if __name__ == "__main__":
    main()
