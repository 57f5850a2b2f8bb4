"""`make eval`: retrieval and bot decisions on eval/questions.jsonl, reported on the held-out split.

The demo articles are loaded into a dedicated database (``kbportal_eval``) and indexed exactly as in
production. Ranking is compared for lexical-only, semantic-only and hybrid retrieval. Decisions (answer,
clarify, hand off) are then measured exactly as the service makes them, with no label of this file used
to fit anything:

- **refit**: the automatic refit on the demo knowledge base (its own similar questions, articles left
  out, built-in chit-chat), at the default target precision (97 %); per product where a product has
  enough similar questions of its own (``MIN_PRODUCT_QUESTIONS``), else one fit for the knowledge base;
- **built-in**: the model shipped in the package (``apps/answers/data/confidence_model.json``);
- **transfer**: for each product, the verifier fitted only on the *other* product's examples, then the
  automatic refit's thresholds on the evaluated knowledge base (no hand tuning).

Out-of-scope questions are reported per group (the file alternates them): uncovered service questions,
chit-chat and near misses.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

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
from apps.answers.services.index import index_rebuild  # noqa: E402
from apps.answers.services.vocabulary import current_vocabulary, vocabulary_changed  # noqa: E402
from apps.answers.text import normalize  # noqa: E402
from apps.catalog.models import Product  # noqa: E402
from apps.demo.knowledge import load_demo_knowledge  # noqa: E402
from apps.knowledge.models import Article  # noqa: E402

MODES = {"lexical": (True, False), "semantic": (False, True), "hybrid": (True, True)}


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
    load_demo_knowledge()
    vocabulary_changed()
    index_rebuild()
    vocabulary_changed()  # the vocabulary's domain words come from the index


OOS_GROUPS = ("uncovered service", "chit-chat", "near miss")  # the file's out-of-scope lines alternate


def decide(model, thresholds, candidates) -> tuple[str, bool, bool]:
    """(decision, candidate article pks best first, confidence), as the service decides (answering.py)."""
    from apps.answers.services.answering import MIN_SUGGESTIONS
    from apps.answers.verifier import candidate_features

    if not candidates:
        return "handoff", [], 0.0
    p = model.probabilities(candidate_features(candidates))
    if p[0] >= thresholds.answer and p[0] > 0:
        return "answer", [c.article_pk for c in candidates], float(p[0])
    if p[0] >= thresholds.clarify and len(candidates) >= MIN_SUGGESTIONS:
        return "clarify", [c.article_pk for c in candidates], float(p[0])
    return "handoff", [], float(p[0])


def measure(rows, model_for, thresholds_for_product) -> dict:
    from apps.answers.services.calibration import SUGGESTIONS

    out = {"in": [], **{g: [] for g in OOS_GROUPS}}
    for row in rows:
        decision, ranked, _p = decide(
            model_for(row["product_pk"]), thresholds_for_product(row["product_pk"]), row["candidates"]
        )
        first_right = bool(ranked) and row["expected_pk"] is not None and ranked[0] == row["expected_pk"]
        suggested = decision == "clarify" and row["expected_pk"] in ranked[:SUGGESTIONS]
        out["in" if row["expected_pk"] else row["group"]].append((decision, first_right, suggested))
    ins = out["in"]
    result = {
        "answered_right": sum(d == "answer" and r for d, r, _s in ins) / len(ins),
        "answered_wrong": sum(d == "answer" and not r for d, r, _s in ins) / len(ins),
        "right_or_suggested": sum((d == "answer" and r) or s for d, r, s in ins) / len(ins),
        "clarified_in_scope": sum(d == "clarify" for d, _r, _s in ins) / len(ins),
    }
    for group in OOS_GROUPS:
        decisions = [d for d, _r, _s in out[group]]
        for d in ("handoff", "clarify", "answer"):
            result[f"{group}: {d}"] = decisions.count(d) / len(decisions)
    return result


def main() -> None:
    from apps.answers.services import calibration
    from apps.answers.services.examples import collect_examples
    from apps.answers.verifier import builtin_fit

    prepare()
    questions = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines() if line]
    oos_seen = 0
    for q in questions:
        if not q["expected"]:
            q["group"] = OOS_GROUPS[oos_seen % 3]
            oos_seen += 1
    products = dict(Product.objects.values_list("slug", "pk"))
    articles = dict(Article.objects.values_list("external_id", "pk"))
    vocabulary = current_vocabulary()
    normalized = [vocabulary.question(normalize(q["question"])) for q in questions]
    embeddings = get_embedder().queries(normalized)

    rows: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for q, text, embedding in zip(questions, normalized, embeddings, strict=True):
        words, tokens = vocabulary.analyse(text)
        for mode, (lexical, semantic) in MODES.items():
            candidates = retrieve(
                embedding=embedding,
                tokens=tokens,
                words=words,
                product_pk=products.get(q["product"]),
                product_version_key=None,
                channel="",
                limit=5,
                use_lexical=lexical,
                use_semantic=semantic,
            )
            rows[mode].append(
                {
                    **q,
                    "product_pk": products.get(q["product"]),
                    "expected_pk": articles.get(q["expected"]) if q["expected"] else None,
                    "ranked": [c.article_id for c in candidates],
                    "candidates": candidates,
                }
            )

    report: dict = {"ranking": {}, "decisions": {}}
    print("== ranking (held-out, in-scope) ==")
    print(f"{'mode':<9} {'top-1':>7} {'top-3':>7}   top-1 by kind")
    for mode, mode_rows in rows.items():
        held = [r for r in mode_rows if r["split"] == "heldout" and r["expected"]]
        top1 = sum(r["ranked"][:1] == [r["expected"]] for r in held) / len(held)
        top3 = sum(r["expected"] in r["ranked"][:3] for r in held) / len(held)
        kinds = {
            k: sum(r["ranked"][:1] == [r["expected"]] for r in held if r["kind"] == k)
            / sum(1 for r in held if r["kind"] == k)
            for k in sorted({r["kind"] for r in held})
        }
        report["ranking"][mode] = {"top1": top1, "top3": top3, "top1_by_kind": kinds}
        print(f"{mode:<9} {top1:7.1%} {top3:7.1%}   " + ", ".join(f"{k} {v:.0%}" for k, v in kinds.items()))

    held = [r for r in rows["hybrid"] if r["split"] == "heldout"]
    target = calibration.DEFAULT_TARGET_PRECISION

    def thresholds(fit):
        return calibration.thresholds_for(
            fit.curve, fit.clarify_threshold, target=target, answer_override=None, clarify_override=None
        )

    started = time.perf_counter()
    examples = collect_examples(product_pks=list(products.values()))
    collected = time.perf_counter() - started
    whole = calibration.fit_examples(examples)
    # As the service does: a product gets its own fit only with enough similar questions of its own.
    per_product = {}
    for pk in products.values():
        subset = [e for e in examples if e.product_pk == pk]
        enough = sum(e.kind == "similar" for e in subset) >= calibration.MIN_PRODUCT_QUESTIONS
        per_product[pk] = calibration.fit_examples(subset) if enough else whole
    transfer = {}
    for pk in products.values():
        elsewhere = calibration.fit_examples([e for e in examples if e.product_pk != pk]).model
        transfer[pk] = calibration.fit_examples([e for e in examples if e.product_pk == pk], model=elsewhere)
    model, curve, clarify = builtin_fit()
    builtin = calibration.Fit(model, curve, clarify, 0, 0, 0, 0)
    print(
        f"refit: {len(examples)} questions from the knowledge base itself collected in {collected:.0f} s; "
        f"whole-KB fit expects {whole.expected[0]:.1%} precision answering {whole.expected[1]:.1%} directly"
    )
    modes = {
        "refit": (lambda pk: per_product[pk].model, lambda pk: thresholds(per_product[pk])),
        "built-in": (lambda pk: builtin.model, lambda pk: thresholds(builtin)),
        "transfer": (lambda pk: transfer[pk].model, lambda pk: thresholds(transfer[pk])),
    }
    print(
        f"\n== decisions (held-out: {sum(1 for r in held if r['expected'])} in-scope, "
        f"{sum(1 for r in held if not r['expected'])} out-of-scope; target precision {target:.0%}) =="
    )
    measures = {name: measure(held, *fns) for name, fns in modes.items()}
    names = list(next(iter(measures.values())))
    print(f"{'':<40}" + "".join(f"{name:>17}" for name in modes))
    for key in names:
        print(f"{key:<40}" + "".join(f"{measures[name][key]:17.1%}" for name in modes))
    report["decisions"] = measures
    report["thresholds"] = {
        name: {slug: vars(fns[1](pk)) for slug, pk in products.items()} for name, fns in modes.items()
    }
    print(
        "thresholds (answer / suggest): "
        + "; ".join(
            f"{name}: " + ", ".join(f"{slug} {t['answer']:.3f}/{t['clarify']:.3f}" for slug, t in per.items())
            for name, per in report["thresholds"].items()
        )
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval_answers.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
