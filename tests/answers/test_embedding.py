"""Concurrent questions share one embedding call, and each gets its own vector back."""

import threading

import numpy as np

from apps.answers.embedding import QueryBatcher, get_embedder


class RecordingEmbedder:
    """The real embedder, with a record of the batches it was given."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self._real = get_embedder()

    def queries(self, texts: list[str]) -> np.ndarray:
        self.batches.append(len(texts))
        return self._real.queries(texts)


def _ask_together(batcher: QueryBatcher, texts: list[str]) -> list:
    start = threading.Barrier(len(texts))
    results: list = [None] * len(texts)

    def ask(i: int) -> None:
        start.wait()
        try:
            results[i] = batcher.query(texts[i])
        except Exception as exc:  # noqa: BLE001 - the test inspects what each caller got
            results[i] = exc

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_questions_are_embedded_in_fewer_calls_each_with_its_own_vector():
    texts = [f"退款多久能到账 第{i}单" for i in range(8)] + ["怎么开发票", "纸尿裤尺码买错了"]
    embedder = RecordingEmbedder()
    vectors = _ask_together(QueryBatcher(embedder, max_batch=16), texts)

    assert sum(embedder.batches) == len(texts)
    assert len(embedder.batches) < len(texts)
    alone = get_embedder().queries(texts)
    for vector, expected in zip(vectors, alone, strict=True):
        assert float(np.dot(vector, expected)) > 0.999


def test_batches_never_exceed_the_maximum():
    embedder = RecordingEmbedder()
    _ask_together(QueryBatcher(embedder, max_batch=3), [f"问题{i}" for i in range(10)])
    assert max(embedder.batches) <= 3 and sum(embedder.batches) == 10


def test_a_failing_model_fails_every_waiting_question_and_the_next_one_runs_again():
    class Broken:
        calls = 0

        def queries(self, texts):
            Broken.calls += 1
            if Broken.calls == 1:
                raise RuntimeError("model crashed")
            return get_embedder().queries(texts)

    batcher = QueryBatcher(Broken(), max_batch=16)
    results = _ask_together(batcher, ["一", "二", "三"])
    assert any(isinstance(r, RuntimeError) for r in results)
    assert all(isinstance(r, RuntimeError | np.ndarray) for r in results)
    assert batcher.query("四").shape == (384,)  # the batcher is not stuck after the failure
