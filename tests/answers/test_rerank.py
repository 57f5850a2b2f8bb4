"""The optional reranker: what it sends a /rerank server, how it reads the answers, and how it gets out of the
way when the server is slow, down or confused. The server is a stand-in (an outside service, faked at the
boundary); nothing here claims anything about a real model's accuracy."""

from __future__ import annotations

import json
import math
import socket
import sys
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.answers.rerank import get_reranker, rerank_scores

DOCUMENTS = ["退款3-5个工作日到账", "发票在订单详情页申请", "纸尿裤尺码可以换货"]


class StandIn:
    """A /rerank server on 127.0.0.1 that records each request and answers with ``status`` and ``body``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.body: bytes = json.dumps({"results": []}).encode()
        self.delay = 0.0
        self.released = threading.Event()  # ends a delayed reply early at teardown
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                standin.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(raw)})
                if standin.delay:
                    standin.released.wait(standin.delay)
                try:
                    self.send_response(standin.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(standin.body)))
                    self.end_headers()
                    self.wfile.write(standin.body)
                except OSError:
                    pass  # the client gave up waiting, as it should

            def log_message(self, format: str, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def reply(self, payload, *, status: int = 200) -> None:
        self.status = status
        self.body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def standin():
    server = StandIn()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_reranker():
    get_reranker.cache_clear()
    yield
    get_reranker.cache_clear()


def use_http(settings, url: str, **overrides) -> None:
    settings.RERANK_BACKEND = "http"
    settings.RERANK_URL = url
    settings.RERANK_MODEL = "bge-reranker-v2-m3"
    settings.RERANK_API_KEY = ""
    settings.RERANK_API_FORMAT = "cohere"
    settings.RERANK_TIMEOUT_MS = 2000
    settings.RERANK_COOLDOWN_SECONDS = 30
    for name, value in overrides.items():
        setattr(settings, f"RERANK_{name.upper()}", value)


def cohere(*pairs: tuple[int, float]) -> dict:
    return {"id": "r1", "results": [{"index": i, "relevance_score": s} for i, s in pairs], "meta": {}}


def test_the_request_is_the_cohere_rerank_shape_with_a_bearer_key(settings, standin):
    use_http(settings, f"{standin.root}/v1/", api_key="sk-test")
    standin.reply(cohere((0, 0.9), (1, 0.2), (2, 0.1)))

    rerank_scores("退款多久到账", DOCUMENTS)

    [request] = standin.requests
    assert request["path"] == "/v1/rerank"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"] == {
        "model": "bge-reranker-v2-m3",
        "query": "退款多久到账",
        "documents": DOCUMENTS,
        "top_n": 3,
        "return_documents": False,
    }


def test_no_authorization_header_is_sent_without_a_key(settings, standin):
    use_http(settings, f"{standin.root}/v1")
    standin.reply(cohere((0, 0.5)))

    rerank_scores("q", ["a"])

    assert "Authorization" not in standin.requests[0]["headers"]


def test_the_tei_format_sends_texts_to_the_servers_own_rerank_path(settings, standin):
    use_http(settings, standin.root, api_format="tei")
    standin.reply([{"index": 0, "score": 0.7}, {"index": 1, "score": 0.1}, {"index": 2, "score": 0.3}])

    assert rerank_scores("退款多久到账", DOCUMENTS) == [0.7, 0.1, 0.3]

    [request] = standin.requests
    assert request["path"] == "/rerank"
    assert request["json"]["query"] == "退款多久到账"
    assert request["json"]["texts"] == DOCUMENTS
    assert "documents" not in request["json"]


def test_results_in_relevance_order_come_back_in_the_documents_order(settings, standin):
    use_http(settings, f"{standin.root}/v1")
    standin.reply(cohere((2, 0.93), (0, 0.41), (1, 0.02)))

    assert rerank_scores("尺码买错了", DOCUMENTS) == [0.41, 0.02, 0.93]


def test_a_document_the_server_left_out_ranks_last(settings, standin):
    use_http(settings, f"{standin.root}/v1")
    standin.reply(cohere((1, -2.5), (0, 3.0)))  # raw logits may be negative: still above a missing document

    scores = rerank_scores("发票", DOCUMENTS)

    assert scores[:2] == [3.0, -2.5]
    assert scores[2] == -math.inf
    assert max(range(3), key=scores.__getitem__) == 0


def test_a_tei_shaped_answer_is_read_even_when_cohere_was_asked(settings, standin):
    use_http(settings, f"{standin.root}/v1")
    standin.reply([{"index": 1, "score": 0.8}, {"index": 0, "score": 0.6}])

    assert rerank_scores("发票", DOCUMENTS) == [0.6, 0.8, -math.inf]


def test_no_documents_need_no_request(settings, standin):
    use_http(settings, f"{standin.root}/v1")

    assert rerank_scores("q", []) == []
    assert standin.requests == []


def test_a_server_slower_than_the_timeout_is_abandoned_quickly(settings, standin, caplog):
    use_http(settings, f"{standin.root}/v1", timeout_ms=100)
    standin.reply(cohere((0, 0.9), (1, 0.2), (2, 0.1)))
    standin.delay = 3.0

    started = time.monotonic()
    scores = rerank_scores("退款多久到账", DOCUMENTS)
    elapsed = time.monotonic() - started

    assert scores is None
    assert elapsed < 0.6  # 100 ms timeout; loose, for a busy test machine
    assert len(standin.requests) == 1
    [record] = [r for r in caplog.records if r.name == "apps.answers.rerank"]
    assert record.levelname == "WARNING"
    assert "http" in record.getMessage()
    assert "100 ms" in record.getMessage()


def test_an_http_error_gives_no_scores(settings, standin, caplog):
    use_http(settings, f"{standin.root}/v1")
    standin.reply({"error": "model not loaded"}, status=500)

    assert rerank_scores("q", DOCUMENTS) is None
    assert "HTTP 500" in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b'{"results": [{"index": 0, "relevance_score": 0.9}',  # cut off
        {"results": "none"},
        {"data": []},
        {"results": []},
        {"results": [{"index": 3, "relevance_score": 0.9}]},
        {"results": [{"index": 0, "relevance_score": "high"}]},
        {"results": [{"index": 0, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.8}]},
        {"results": [{"relevance_score": 0.9}]},
        [{"index": 0}],
        b'{"results": [{"index": 0, "relevance_score": NaN}]}',
    ],
    ids=[
        "not-json",
        "truncated-json",
        "results-not-a-list",
        "no-results",
        "empty-results",
        "index-out-of-range",
        "score-not-a-number",
        "duplicate-index",
        "no-index",
        "tei-without-score",
        "nan-score",
    ],
)
def test_a_malformed_answer_gives_no_scores(settings, standin, caplog, body):
    use_http(settings, f"{standin.root}/v1")
    standin.reply(body)

    assert rerank_scores("q", DOCUMENTS) is None
    assert "malformed response" in caplog.text or "bad response" in caplog.text


def test_a_refused_connection_gives_no_scores(settings, caplog):
    with socket.socket() as probe:  # a port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    use_http(settings, f"http://127.0.0.1:{port}/v1")

    assert rerank_scores("q", DOCUMENTS) is None
    assert "unreachable" in caplog.text


def test_after_a_failure_the_server_is_skipped_for_the_cooldown_then_asked_again(settings, standin, caplog):
    use_http(settings, f"{standin.root}/v1", cooldown_seconds=1)
    standin.reply({"error": "overloaded"}, status=503)
    assert rerank_scores("q", DOCUMENTS) is None

    standin.reply(cohere((0, 0.9), (1, 0.2), (2, 0.1)))  # the server recovers at once…
    assert rerank_scores("q", DOCUMENTS) is None  # …but is left alone during the cooldown
    assert len(standin.requests) == 1

    time.sleep(1.1)
    assert rerank_scores("q", DOCUMENTS) == [0.9, 0.2, 0.1]
    assert len(standin.requests) == 2
    warnings = [r for r in caplog.records if r.name == "apps.answers.rerank" and r.levelname == "WARNING"]
    assert len(warnings) == 1  # one per failure, not one per skipped request


def test_no_reranker_by_default_and_no_request(settings, standin):
    use_http(settings, f"{standin.root}/v1")
    settings.RERANK_BACKEND = "none"

    assert get_reranker() is None
    assert rerank_scores("q", DOCUMENTS) is None
    assert standin.requests == []


def test_an_unknown_backend_is_a_configuration_error_naming_the_choices(settings):
    settings.RERANK_BACKEND = "cohere"

    with pytest.raises(ImproperlyConfigured, match="none, http, sentence-transformers"):
        rerank_scores("q", DOCUMENTS)


def test_the_http_backend_needs_a_url_and_a_known_format(settings, standin):
    use_http(settings, "")
    with pytest.raises(ImproperlyConfigured, match="RERANK_URL"):
        get_reranker()

    use_http(settings, f"{standin.root}/v1", api_format="openai")
    with pytest.raises(ImproperlyConfigured, match="cohere, tei"):
        get_reranker()


class FakeCrossEncoder:
    """Stands in for sentence_transformers.CrossEncoder (an optional dependency not installed here)."""

    loaded: list[tuple[str, str]] = []

    def __init__(self, path: str, device: str) -> None:
        FakeCrossEncoder.loaded.append((path, device))
        self.pairs: list[tuple[str, str]] = []

    def predict(self, pairs):
        if any(doc == "boom" for _, doc in pairs):
            raise RuntimeError("out of memory")
        self.pairs = list(pairs)
        return [float(len(doc)) for _, doc in pairs]


@pytest.fixture
def fake_sentence_transformers(monkeypatch):
    FakeCrossEncoder.loaded = []
    monkeypatch.setitem(sys.modules, "sentence_transformers", types.SimpleNamespace(CrossEncoder=FakeCrossEncoder))


def test_the_sentence_transformers_backend_scores_query_document_pairs_on_cpu(
    settings, fake_sentence_transformers, caplog
):
    settings.RERANK_BACKEND = "sentence-transformers"
    settings.RERANK_MODEL_PATH = "/models/bge-reranker-v2-m3"

    assert rerank_scores("q", ["ab", "abcd"]) == [2.0, 4.0]
    assert FakeCrossEncoder.loaded == [("/models/bge-reranker-v2-m3", "cpu")]
    assert get_reranker().backend._model.pairs == [("q", "ab"), ("q", "abcd")]

    assert rerank_scores("q", ["boom"]) is None  # a model failure is a failure like any other
    assert "sentence-transformers" in caplog.text and "out of memory" in caplog.text


def test_the_sentence_transformers_backend_needs_a_path_and_the_package(settings, monkeypatch):
    settings.RERANK_BACKEND = "sentence-transformers"
    settings.RERANK_MODEL_PATH = ""
    with pytest.raises(ImproperlyConfigured, match="RERANK_MODEL_PATH"):
        get_reranker()

    settings.RERANK_MODEL_PATH = "/models/bge-reranker-v2-m3"
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails, as when not installed
    with pytest.raises(ImproperlyConfigured, match="sentence-transformers package"):
        get_reranker()
