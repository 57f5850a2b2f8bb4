"""An optional cross-encoder reranker for the candidates retrieval found. Chosen by ``RERANK_BACKEND``:

- ``none`` (default): no reranker; :func:`rerank_scores` returns None and the built-in ranking stands.
- ``http``: a deployer's ``/rerank`` server (``RERANK_URL``, ``RERANK_MODEL``, ``RERANK_API_KEY``). With
  ``RERANK_API_FORMAT=cohere`` (default) the request is the Cohere shape that Xinference, vLLM and Jina also
  serve; with ``tei`` it is the shape of Hugging Face text-embeddings-inference. Either response shape is read.
- ``sentence-transformers``: a local cross-encoder directory (``RERANK_MODEL_PATH``); install
  sentence-transformers.

A reranker is a refinement, never a dependency: a slow, dead or confused backend costs the bot at most
``RERANK_TIMEOUT_MS`` once, then is skipped for ``RERANK_COOLDOWN_SECONDS``, and the caller keeps its own
ranking. Scores are on each backend's own scale (probabilities from some servers, raw logits from others):
compare them within one call, not with a fixed threshold across backends.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import threading
import time
import urllib.error
import urllib.request
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

API_FORMATS = ("cohere", "tei")


class RerankFailed(Exception):
    """The backend gave no usable scores; the message is the reason, for the log."""


class Reranker(Protocol):
    name: str

    def scores(self, query: str, documents: list[str]) -> list[float]:
        """One score per document, in the documents' order; raises on any failure."""
        ...


class HTTPReranker:
    name = "http"

    def __init__(self, url: str, model: str, api_key: str, api_format: str, timeout_ms: int) -> None:
        self._url = f"{url.rstrip('/')}/rerank"
        self._model, self._key, self._format = model, api_key, api_format
        self._timeout = timeout_ms / 1000

    def _body(self, query: str, documents: list[str]) -> dict[str, Any]:
        if self._format == "tei":
            # TEI rejects over-long inputs unless told to truncate; FAQ answers can pass 512 tokens.
            return {"query": query, "texts": documents, "raw_scores": False, "return_text": False, "truncate": True}
        return {
            "model": self._model,
            "query": query,
            "documents": documents,
            "top_n": len(documents),
            "return_documents": False,
        }

    def scores(self, query: str, documents: list[str]) -> list[float]:
        request = urllib.request.Request(
            self._url,
            data=json.dumps(self._body(query, documents)).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self._key}"} if self._key else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                payload = json.load(response)
        except urllib.error.HTTPError as exc:
            raise RerankFailed(f"HTTP {exc.code} from {self._url}") from exc
        except urllib.error.URLError as exc:  # refused, unresolvable, or a timeout while connecting
            raise RerankFailed(f"{self._url} unreachable: {exc.reason}") from exc
        except TimeoutError as exc:
            raise RerankFailed(f"no answer from {self._url} within {self._timeout * 1000:.0f} ms") from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:  # resets, cut-off bodies, not JSON
            raise RerankFailed(f"bad response from {self._url}: {exc}") from exc
        return _parse(payload, len(documents))


def _parse(payload: Any, count: int) -> list[float]:
    """Scores in the documents' order from either response shape:

    ``{"results": [{"index": i, "relevance_score": s}, ...]}`` (Cohere, Jina, Xinference, vLLM) or
    ``[{"index": i, "score": s}, ...]`` (TEI). Results come in any order; a document the server left out
    scores ``-inf`` and so ranks last.
    """
    results = payload.get("results") if isinstance(payload, dict) else payload
    if not isinstance(results, list):
        raise RerankFailed(f"malformed response: expected a list of results, got {type(payload).__name__}")
    scores = [-math.inf] * count
    seen: set[int] = set()
    for item in results:
        if not isinstance(item, dict):
            raise RerankFailed("malformed response: a result is not an object")
        index = item.get("index")
        score = item.get("relevance_score", item.get("score"))
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count or index in seen:
            raise RerankFailed(f"malformed response: bad document index {index!r}")
        if not isinstance(score, int | float) or isinstance(score, bool) or not math.isfinite(score):
            raise RerankFailed(f"malformed response: bad score {score!r} for document {index}")
        scores[index] = float(score)
        seen.add(index)
    if count and not seen:
        raise RerankFailed("malformed response: no document scored")
    return scores


class SentenceTransformersReranker:
    name = "sentence-transformers"

    def __init__(self, path: str) -> None:
        try:
            from sentence_transformers import CrossEncoder  # optional dependency
        except ImportError as exc:
            raise ImproperlyConfigured(
                "RERANK_BACKEND=sentence-transformers needs the sentence-transformers package installed."
            ) from exc
        try:
            self._model = CrossEncoder(path, device="cpu")
        except Exception as exc:  # a model that will not load is a configuration error
            raise ImproperlyConfigured(f"RERANK_MODEL_PATH={path!r} could not be loaded: {exc}") from exc

    def scores(self, query: str, documents: list[str]) -> list[float]:
        try:
            predicted = [float(score) for score in self._model.predict([(query, doc) for doc in documents])]
        except Exception as exc:  # whatever the model raises, the caller keeps its ranking
            raise RerankFailed(f"{type(exc).__name__}: {exc}") from exc
        if len(predicted) != len(documents) or not all(math.isfinite(score) for score in predicted):
            raise RerankFailed(f"{len(predicted)} scores (not all finite?) for {len(documents)} documents")
        return predicted


class GuardedReranker:
    """A backend behind a circuit breaker: after a failure it is not asked again for ``cooldown`` seconds.

    Without it a dead server would add its whole timeout to every bot request.
    """

    def __init__(self, backend: Reranker, cooldown_seconds: int) -> None:
        self.backend = backend
        self._cooldown = cooldown_seconds
        self._lock = threading.Lock()
        self._skip_until = 0.0
        self._failed = False

    def scores(self, query: str, documents: list[str]) -> list[float] | None:
        if not documents:
            return []
        with self._lock:
            if time.monotonic() < self._skip_until:
                return None
        try:
            scores = self.backend.scores(query, documents)
        except RerankFailed as exc:
            with self._lock:
                self._skip_until = time.monotonic() + self._cooldown
                self._failed = True
            logger.warning(
                "Reranker %s failed (%s); using the built-in ranking for the next %d s.",
                self.backend.name,
                exc,
                self._cooldown,
            )
            return None
        with self._lock:
            recovered, self._failed = self._failed, False
        if recovered:
            logger.info("Reranker %s answers again.", self.backend.name)
        return scores


@lru_cache(maxsize=1)
def get_reranker() -> GuardedReranker | None:
    """The process-wide reranker, loaded once (never per request); None when ``RERANK_BACKEND=none``."""
    backend = settings.RERANK_BACKEND
    if backend == "none":
        return None
    if backend == "http":
        if not settings.RERANK_URL:
            raise ImproperlyConfigured("RERANK_BACKEND=http needs RERANK_URL (…/v1, or the server root for TEI).")
        if settings.RERANK_API_FORMAT not in API_FORMATS:
            raise ImproperlyConfigured(
                f"RERANK_API_FORMAT={settings.RERANK_API_FORMAT!r} is not one of: {', '.join(API_FORMATS)}."
            )
        chosen: Reranker = HTTPReranker(
            settings.RERANK_URL,
            settings.RERANK_MODEL,
            settings.RERANK_API_KEY,
            settings.RERANK_API_FORMAT,
            settings.RERANK_TIMEOUT_MS,
        )
    elif backend == "sentence-transformers":
        if not settings.RERANK_MODEL_PATH:
            raise ImproperlyConfigured("RERANK_BACKEND=sentence-transformers needs RERANK_MODEL_PATH.")
        chosen = SentenceTransformersReranker(settings.RERANK_MODEL_PATH)
    else:
        raise ImproperlyConfigured(f"RERANK_BACKEND={backend!r} is not one of: none, http, sentence-transformers.")
    return GuardedReranker(chosen, settings.RERANK_COOLDOWN_SECONDS)


def rerank_scores(query: str, documents: list[str]) -> list[float] | None:
    """Relevance of each document to the query, in the documents' order (higher = more relevant), or None
    when no reranker is configured or it failed (timeout, connection error, HTTP error, malformed body): the
    caller then keeps the built-in ranking. Never raises for backend failures.

    A misconfiguration (an unknown ``RERANK_BACKEND``, a missing URL or model) raises ImproperlyConfigured.
    """
    reranker = get_reranker()
    if reranker is None:
        return None
    return reranker.scores(query, documents)
