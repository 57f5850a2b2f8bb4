"""QA audit emotion detectors on eval/qa_sentiment.jsonl: quality per split and throughput.

Run from the repository root: ``.venv/bin/python eval/qa_sentiment.py``. No Django: the detectors are
plain Python. Customer lines test ``negative_emotion`` (positive class "negative"), agent lines test
``impolite`` (positive class "impolite"). Tune the lexicons on dev; report test.

The set: one JSON object a line, ``{"text", "role": "customer"|"agent", "label", "split": "dev"|"test"}``
with label ``negative``/``neutral`` for customers and ``impolite``/``polite`` for agents. The lines were
written as customers of the mall and wallet apps and their agents write in WeChat, independently of the
lexicons, and labelled by meaning. They include negations (我不是生气), polite complaints, sarcasm
(呵呵，真是好服务), neutral mentions of 投诉/退钱/骗子/12315, Traditional Chinese (~10 %), pinyin typos
and emoji. Within each role and label, lines alternate dev, test.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.qa.sentiment import Cue, impolite, negative_emotion  # noqa: E402

DATASET = ROOT / "eval" / "qa_sentiment.jsonl"
THROUGHPUT_MESSAGES = 100_000
MISSES_SHOWN = 6


@dataclass(frozen=True)
class Detector:
    name: str
    role: str
    positive: str  # the label the detector should flag
    detect: Callable[[str], list[Cue]]


DETECTORS = (
    Detector("negative_emotion", "customer", "negative", negative_emotion),
    Detector("impolite", "agent", "impolite", impolite),
)


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.total if self.total else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load(path: Path = DATASET) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def evaluate(
    detector: Detector, rows: list[dict[str, str]]
) -> tuple[Confusion, list[tuple[dict[str, str], list[Cue]]]]:
    confusion, misses = Confusion(), []
    for row in rows:
        cues = detector.detect(row["text"])
        flagged, expected = bool(cues), row["label"] == detector.positive
        if flagged and expected:
            confusion.tp += 1
        elif flagged:
            confusion.fp += 1
        elif expected:
            confusion.fn += 1
        else:
            confusion.tn += 1
        if flagged != expected:
            misses.append((row, cues))
    return confusion, misses


def throughput(rows: list[dict[str, str]]) -> float:
    """Messages per second, each message through its role's detector, the set repeated to ~100k."""
    by_role = {detector.role: detector.detect for detector in DETECTORS}
    work = [(by_role[row["role"]], row["text"]) for row in rows]
    work = work * (THROUGHPUT_MESSAGES // len(work) + 1)
    started = time.perf_counter()
    for detect, text in work:
        detect(text)
    return len(work) / (time.perf_counter() - started)


def main() -> int:
    rows = load()
    print(f"{DATASET.relative_to(ROOT)}: {len(rows)} messages")
    for detector in DETECTORS:
        print(f"\n== {detector.name} ({detector.role} messages, positive = {detector.positive}) ==")
        print(f"{'split':<6}{'n':>5}{'acc':>8}{'prec':>8}{'rec':>8}{'F1':>8}{'TP':>6}{'FP':>5}{'FN':>5}{'TN':>5}")
        test_misses: list[tuple[dict[str, str], list[Cue]]] = []
        for split in ("dev", "test"):
            subset = [row for row in rows if row["role"] == detector.role and row["split"] == split]
            c, misses = evaluate(detector, subset)
            print(
                f"{split:<6}{c.total:>5}{c.accuracy:>8.1%}{c.precision:>8.1%}{c.recall:>8.1%}{c.f1:>8.1%}"
                f"{c.tp:>6}{c.fp:>5}{c.fn:>5}{c.tn:>5}"
            )
            if split == "test":
                test_misses = misses
        print(f"misclassified on test ({len(test_misses)}), first {min(MISSES_SHOWN, len(test_misses))}:")
        for row, cues in test_misses[:MISSES_SHOWN]:
            found = ", ".join(f"{cue.text}={cue.weight:g}" for cue in cues) or "no cue"
            print(f"  [{row['label']}] {row['text']}  ({found})")
    rate = throughput(rows)
    print(f"\nthroughput: {rate:,.0f} messages/s (whole set repeated to ~{THROUGHPUT_MESSAGES:,} messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
