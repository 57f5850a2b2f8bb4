"""`make eval`: retrieval quality on eval/questions.jsonl for lexical-only, semantic-only and hybrid.

The demo articles are loaded into a dedicated database (``kbportal_eval``) and indexed exactly as in
production. For each mode a confidence model is fitted on the dev split (logistic regression on the
retrieval features), a threshold is chosen on dev (the lowest that hands off ≥ 95 % of out-of-scope
questions), and everything is reported on the held-out split.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbportal.settings")
os.environ.setdefault("KBPORTAL_DB_NAME", "kbportal_eval")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.answers.embedding import get_embedder  # noqa: E402
from apps.answers.retrieval import retrieve  # noqa: E402
from apps.answers.services.answering import confidence_features  # noqa: E402
from apps.answers.services.index import index_everything  # noqa: E402
from apps.answers.services.vocabulary import current_vocabulary, vocabulary_changed  # noqa: E402
from apps.answers.text import normalize  # noqa: E402
from apps.catalog.models import Product  # noqa: E402

CALIBRATION_FEATURES = ["similarity", "margin", "lexical", "focus"]
MODES = {"lexical": (True, False), "semantic": (False, True), "hybrid": (True, True)}
OOS_HANDOFF_TARGET = 0.95


def prepare() -> None:
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE answers_questionentry, answers_answerquery, answers_synonym, knowledge_staleflag, "
            "knowledge_similarquestion, knowledge_channelanswer, knowledge_articleversion_features, "
            "knowledge_scriptversion_features, knowledge_scriptversion, knowledge_script, knowledge_articleversion, "
            "knowledge_article, knowledge_category, catalog_release_changed_features, catalog_release, "
            "catalog_feature, catalog_product RESTART IDENTITY CASCADE"
        )
    call_command("load_demo_data", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    vocabulary_changed()
    index_everything()
    vocabulary_changed()  # the vocabulary's domain words come from the index


def features(mode: str, candidates) -> list[float]:
    if not candidates:
        return [0.0] * len(CALIBRATION_FEATURES)
    if mode == "hybrid":  # exactly what the service computes
        values = confidence_features(candidates)
        return [values[name] for name in CALIBRATION_FEATURES]
    best = candidates[0]
    if mode == "lexical":
        lexical = min(best.lex_score or 0.0, 1.0)
        others = [min(c.lex_score or 0.0, 1.0) for c in candidates[1:]]
        return [lexical, lexical - max(others, default=0.0), 0.0, 0.0]
    similarity = best.question_similarity or 0.0
    others = [c.question_similarity for c in candidates[1:] if c.question_similarity is not None]
    return [similarity, similarity - max(others, default=similarity - 0.05), 0.0, 0.0]


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 20000) -> np.ndarray:
    """Plain gradient descent on standardised features; returns weights in raw feature units (bias first)."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    w = np.zeros(z.shape[1] + 1)
    design = np.hstack([np.ones((len(z), 1)), z])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ w))
        grad = design.T @ (p - y) / len(y) + l2 * np.r_[0, w[1:]]
        w -= 0.5 * grad
    raw = w[1:] / std
    return np.r_[w[0] - (raw * mean).sum(), raw]


def main() -> None:
    prepare()
    questions = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines() if line]
    products = dict(Product.objects.values_list("slug", "pk"))
    vocabulary = current_vocabulary()
    normalized = [vocabulary.question(normalize(q["question"])) for q in questions]
    embeddings = get_embedder().queries(normalized)

    results: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for q, text, embedding in zip(questions, normalized, embeddings, strict=True):
        tokens = vocabulary.tokens(text)
        for mode, (lexical, semantic) in MODES.items():
            candidates = retrieve(
                embedding=embedding,
                tokens=tokens,
                product_pk=products.get(q["product"]),
                product_version_key=None,
                channel="",
                limit=5,
                use_lexical=lexical,
                use_semantic=semantic,
            )
            ranked = [c.article_id for c in candidates]
            results[mode].append({**q, "ranked": ranked, "x": features(mode, candidates)})

    report = {}
    print(
        f"{'mode':<9} {'top-1':>7} {'top-3':>7} {'answered correctly':>19} {'wrong answers':>14} "
        f"{'out-of-scope handed off':>24} {'threshold':>10}"
    )
    for mode, rows in results.items():
        dev = [r for r in rows if r["split"] == "dev"]
        held = [r for r in rows if r["split"] == "heldout"]

        def correct(r) -> float:
            return 1.0 if r["expected"] and r["ranked"][:1] == [r["expected"]] else 0.0

        x_dev = np.array([r["x"] for r in dev])
        y_dev = np.array([correct(r) for r in dev])
        weights = fit_logistic(x_dev, y_dev)

        def confidence(r, weights=weights) -> float:
            return 1 / (1 + math.exp(-(weights[0] + np.dot(weights[1:], r["x"]))))

        oos_dev = sorted(confidence(r) for r in dev if not r["expected"])
        # Lowest threshold that hands off the target share of dev out-of-scope questions.
        threshold = oos_dev[min(len(oos_dev) - 1, math.ceil(OOS_HANDOFF_TARGET * len(oos_dev)) - 1)] + 1e-6
        in_held = [r for r in held if r["expected"]]
        oos_held = [r for r in held if not r["expected"]]
        top1 = sum(correct(r) for r in in_held) / len(in_held)
        top3 = sum(1 for r in in_held if r["expected"] in r["ranked"][:3]) / len(in_held)
        answered_right = sum(1 for r in in_held if confidence(r) >= threshold and correct(r)) / len(in_held)
        answered_wrong = sum(1 for r in in_held if confidence(r) >= threshold and not correct(r)) / len(in_held)
        handed_off = sum(1 for r in oos_held if confidence(r) < threshold) / len(oos_held)
        by_kind = {}
        for kind in sorted({r["kind"] for r in in_held}):
            subset = [r for r in in_held if r["kind"] == kind]
            by_kind[kind] = sum(correct(r) for r in subset) / len(subset)
        curve = []
        for t in (0.3, 0.5, 0.7, 0.8, 0.9, threshold):
            curve.append(
                (
                    t,
                    sum(1 for r in in_held if confidence(r) >= t and correct(r)) / len(in_held),
                    sum(1 for r in in_held if confidence(r) >= t and not correct(r)) / len(in_held),
                    sum(1 for r in oos_held if confidence(r) < t) / len(oos_held),
                )
            )
        report[mode] = {
            "curve": curve,
            "top1": top1,
            "top3": top3,
            "answered_correctly": answered_right,
            "answered_wrongly": answered_wrong,
            "oos_handed_off": handed_off,
            "threshold": threshold,
            "weights": weights.tolist(),
            "top1_by_kind": by_kind,
            "n_in": len(in_held),
            "n_oos": len(oos_held),
        }
        print(
            f"{mode:<9} {top1:7.1%} {top3:7.1%} {answered_right:19.1%} {answered_wrong:14.1%} "
            f"{handed_off:24.1%} {threshold:10.3f}"
        )
    print(f"(held-out: {report['hybrid']['n_in']} in-scope, {report['hybrid']['n_oos']} out-of-scope questions)")
    print(
        "hybrid trade-off on held-out (threshold: answered correctly / answered wrongly / out-of-scope handed off): "
        + "; ".join(f"{t:.2f}: {a:.0%} / {w:.0%} / {h:.0%}" for t, a, w, h in report["hybrid"]["curve"])
    )
    print("hybrid top-1 by kind: " + ", ".join(f"{k} {v:.0%}" for k, v in report["hybrid"]["top1_by_kind"].items()))
    names = ["bias", *CALIBRATION_FEATURES]
    print(
        "hybrid calibration (paste into apps/answers/services/answering.py CALIBRATION): "
        + json.dumps({n: round(w, 3) for n, w in zip(names, report["hybrid"]["weights"], strict=True)})
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval_answers.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
