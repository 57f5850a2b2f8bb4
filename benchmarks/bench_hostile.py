"""Hostile input: work grows with the text, never faster.

1. A single message of 10 KB, 100 KB and 1 MB scored by the rule engine (keywords, a regex, proximity,
   emotion and politeness cues): time per MB should stay flat as the message grows.
2. Proximity over N hits a side: the engine (sorted indices, one pass) next to the pairwise algorithm it
   replaced (every pair, with a list-membership de-duplication), in the same run.
3. A catastrophic pattern, ``(a+)+$``: RE2 on a 1 MB message next to Python's backtracking ``re`` on a few
   dozen characters (its time doubles with each character added).
4. Masking a 1 MB message with a deployer's extra pattern.

    cd benchmarks && ../.venv/bin/python bench_hostile.py
"""

from __future__ import annotations

import re
import time

from common import report, setup_django

setup_django()

from apps.core.masking import Masker  # noqa: E402
from apps.qa.rules.conditions import parse_condition  # noqa: E402
from apps.qa.rules.engine import CompiledRule, ConversationView, Evidence, MessageView, RuleSet  # noqa: E402

LEXICONS = {"forbidden": ["不知道", "自己看", "爱买不买"], "refund": ["退款", "退钱"]}
RULES = [
    {"type": "keywords", "lexicon": "forbidden", "role": "agent"},
    {"type": "regex", "pattern": "微信\\s*[a-zA-Z0-9_]{5,}", "role": "agent"},
    {"type": "regex", "pattern": "(自己看)+订单"},
    {
        "type": "near",
        "conditions": [{"type": "keywords", "lexicon": "forbidden"}, {"type": "keywords", "lexicon": "refund"}],
        "within": 1,
    },
    {"type": "negative_emotion"},
    {"type": "impolite"},
]
UNIT = "不知道，你自己看订单，退款呢？加微信 abc12345 气死我了" + "好" * 70  # 100 characters


def best_of(runs: int, fn) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def ruleset() -> RuleSet:
    return RuleSet(
        [CompiledRule(i, f"r{i}", "major", parse_condition(tree)) for i, tree in enumerate(RULES)], LEXICONS, ()
    )


def conversation(text: str) -> ConversationView:
    return ConversationView(id=1, messages=[MessageView(0, 1, "customer", "退款"), MessageView(1, 2, "agent", text)])


def pairwise_near(first: list[Evidence], second: list[Evidence], within: int) -> list[Evidence]:
    """The algorithm the engine used before: every pair, de-duplicated by list membership."""
    evidence: list[Evidence] = []
    for a in first:
        close = [b for b in second if abs(a.message - b.message) <= within]
        if close:
            evidence.append(a)
            evidence += [b for b in close if b not in evidence]
    return evidence


def main() -> None:
    lines: list[str] = []
    data: dict = {"scoring": [], "proximity": [], "catastrophic": {}, "masking": {}}
    rules = ruleset()

    lines.append("1. One message scored against 6 rules (best of 3):")
    for size in (10_000, 100_000, 1_000_000):
        convo = conversation(UNIT * (size // len(UNIT)))
        seconds = best_of(3, lambda convo=convo: rules.evaluate(convo))
        per_mb = seconds / (size / 1_000_000)
        data["scoring"].append({"characters": size, "seconds": seconds, "seconds_per_million": per_mb})
        lines.append(f"   {size:>9,} characters: {seconds * 1000:8.1f} ms  ({per_mb:.2f} s per million characters)")

    lines.append("2. Proximity over N hits a side (within 1 message), engine vs the pairwise algorithm:")
    for hits in (1_000, 2_000, 4_000):
        messages = [MessageView(i, i, "customer", "退款不知道") for i in range(hits)]
        convo = ConversationView(id=1, messages=messages)
        near = RuleSet([CompiledRule(1, "near", "major", parse_condition(RULES[3]))], LEXICONS, ())
        engine = best_of(3, lambda near=near, convo=convo: near.evaluate(convo))
        first = [Evidence(i, 0, 2, "退款") for i in range(hits)]
        second = [Evidence(i, 2, 5, "不知道") for i in range(hits)]
        pairwise = best_of(1, lambda first=first, second=second: pairwise_near(first, second, 1))
        data["proximity"].append({"hits": hits, "engine_seconds": engine, "pairwise_seconds": pairwise})
        lines.append(
            f"   {hits:>6,} hits: engine {engine * 1000:8.1f} ms (whole evaluation), pairwise {pairwise * 1000:9.1f} ms "
            f"(matching alone), ×{pairwise / engine:,.0f}"
        )

    lines.append("3. (a+)+$ against a run of a's and one b (no match):")
    convo = ConversationView(id=1, messages=[MessageView(0, 1, "customer", "a" * 1_000_000 + "b")])
    runaway = RuleSet(
        [CompiledRule(1, "runaway", "major", parse_condition({"type": "regex", "pattern": "(a+)+$"}))], {}, ()
    )
    re2_seconds = best_of(3, lambda: runaway.evaluate(convo))
    backtracking = {}
    for n in (20, 22, 24):
        pattern = re.compile("(a+)+$")
        backtracking[n] = best_of(1, lambda n=n, pattern=pattern: pattern.search("a" * n + "b"))
    data["catastrophic"] = {"re2_1mb_seconds": re2_seconds, "python_re_seconds": backtracking}
    lines.append(f"   RE2 (the engine), 1,000,000 a's: {re2_seconds * 1000:.1f} ms")
    for n, seconds in backtracking.items():
        lines.append(f"   Python re, {n} a's: {seconds * 1000:.1f} ms")
    growth = backtracking[24] / backtracking[20]
    lines.append(f"   Python re grows ×{growth:.0f} for 4 more characters: 1 MB would never finish.")

    masker = Masker({"member_no": r"VIP\d{6}"})
    text = ("会员VIP123456，手机13812345678，" + "好" * 75) * 10_000
    mask_seconds = best_of(3, lambda: masker.mask(text))
    data["masking"] = {"characters": len(text), "seconds": mask_seconds}
    lines.append(f"4. Masking {len(text):,} characters (20,000 hits): {mask_seconds * 1000:.1f} ms")
    report("hostile_input", lines, data)


if __name__ == "__main__":
    main()
