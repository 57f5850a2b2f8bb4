"""QA engine throughput and sampling time.

1. Scoring: demo conversations evaluated against 30 rules, one of them over a 20,000-term lexicon, in one
   process (one core): the rule engine (one Aho-Corasick pass per message) next to a naive engine that
   runs one ``re.search`` per term over the same messages, in the same run. Also the whole
   ``conversations_score`` path (load from PostgreSQL, evaluate, write scores and findings).
2. Sampling: a plan choosing 2 % of 1,000,000 conversations of one week (500 agents), time and peak memory.

    cd benchmarks && ../.venv/bin/python bench_qa.py [conversations to score] [conversations to sample]
"""

from __future__ import annotations

import random
import re
import resource
import sys
import time
from datetime import datetime

from common import report, setup_django

SCORE_N = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
SAMPLE_N = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
NAIVE_N = 40  # the naive engine is slow: measured on fewer conversations, reported per conversation

COMMON = "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领"
RULES = [
    {"type": "keywords", "lexicon": "big", "role": "agent"},
    {"type": "keywords", "lexicon": "forbidden", "role": "agent"},
    {"type": "keywords", "lexicon": "complaint", "role": "customer"},
    {"type": "keywords", "lexicon": "sensitive"},
    {"type": "missing_phrase", "lexicon": "greeting", "position": "first_agent_reply"},
    {"type": "missing_phrase", "lexicon": "closing", "position": "last_agent_reply"},
    {"type": "keywords", "terms": ["退款", "退钱"], "match": "all", "role": "customer"},
    {"type": "keywords", "lexicon": "complaint", "match": "at_least", "n": 2},
    {"type": "keywords", "terms": ["抱歉", "不好意思"], "match": "none", "role": "agent"},
    {"type": "regex", "pattern": "微信\\s*[a-zA-Z0-9_]{5,}", "exclude": "公众号", "role": "agent"},
    {"type": "regex", "pattern": "1[3-9]\\d{9}", "role": "agent"},
    {"type": "regex", "pattern": "订单号?\\s*\\d{10,}"},
    {
        "type": "near",
        "conditions": [{"type": "keywords", "terms": ["退款"]}, {"type": "keywords", "lexicon": "complaint"}],
        "within": 2,
    },
    {
        "type": "near",
        "conditions": [{"type": "keywords", "terms": ["转人工"]}, {"type": "keywords", "terms": ["不是这个"]}],
        "within": 0,
    },
    {"type": "timing", "metric": "first_response", "over_seconds": 30},
    {"type": "timing", "metric": "human_first_response", "over_seconds": 60},
    {"type": "timing", "metric": "max_reply_gap", "over_seconds": 120},
    {"type": "timing", "metric": "handle_time", "over_seconds": 900},
    {"type": "timing", "metric": "sla_breached"},
    {"type": "negative_emotion"},
    {"type": "impolite"},
    {"type": "bot_failure_streak", "min": 3, "without_handoff": True},
    {"type": "human_only_topic"},
    {"type": "metadata", "field": "csat", "op": "lte", "value": 2},
    {"type": "metadata", "field": "channel", "op": "in", "value": ["wechat", "wecom"]},
    {
        "all": [
            {"type": "keywords", "lexicon": "complaint", "role": "customer"},
            {"not": {"type": "keywords", "terms": ["抱歉"], "role": "agent"}},
        ]
    },
    {"any": [{"type": "negative_emotion"}, {"type": "metadata", "field": "csat", "op": "lte", "value": 1}]},
    {
        "all": [
            {"type": "metadata", "field": "handoff", "op": "eq", "value": True},
            {"type": "timing", "metric": "human_first_response", "over_seconds": 120},
        ]
    },
    {"type": "keywords", "terms": ["您好", "你好"], "position": "first_n", "n_messages": 3, "role": ["agent", "bot"]},
    {"type": "keywords", "lexicon": "forbidden", "position": "last_n", "n_messages": 4},
]
FORBIDDEN = ["不知道", "自己看", "爱买不买", "不归我管", "我也没办法", "听不懂吗", "随便你", "不清楚"]
COMPLAINT = ["投诉", "12315", "消协", "曝光", "律师", "起诉", "差评"]
SENSITIVE = ["私下转账", "加我微信", "返现", "刷单"]
GREETING = ["您好", "你好", "很高兴为您服务"]
CLOSING = ["还有其他", "祝您生活愉快", "感谢您的耐心"]


def big_lexicon(size: int) -> list[str]:
    rng = random.Random(3)
    terms: set[str] = set()
    while len(terms) < size:
        terms.add("".join(rng.choice(COMMON) for _ in range(rng.choice((2, 3, 3, 4)))))
    return sorted(terms)


def views(count: int):
    from apps.demo.conversations import generate_conversations
    from apps.qa.rules.engine import ConversationView, MessageView

    result = []
    for n, payload in enumerate(generate_conversations(count, seed=11)):
        messages = [MessageView(i, None, m["role"], m.get("text") or "") for i, m in enumerate(payload["messages"])]
        result.append(
            ConversationView(
                id=n,
                messages=messages,
                channel=payload["channel"],
                csat=payload.get("csat"),
                tags=payload.get("tags") or [],
                metrics={
                    "first_response_seconds": 20.0,
                    "human_first_response_seconds": 90.0,
                    "max_agent_reply_seconds": 40.0,
                    "handle_seconds": 300.0,
                    "sla_breached": False,
                    "bot_failure_streak": 1,
                },
            )
        )
    return result


class NaiveRuleSet:
    """The same rules, each term looked for with its own ``re.search`` in each message in scope."""

    def __init__(self, ruleset) -> None:
        from apps.qa.rules import conditions as c
        from apps.qa.rules.engine import walk

        self.ruleset = ruleset
        self.patterns: dict[int, list[re.Pattern]] = {}
        for rule in ruleset.rules:
            for node in walk(rule.tree):
                if getattr(node, "term_set", -1) >= 0 and node.term_set not in self.patterns:
                    terms = ruleset._set_terms[node.term_set]
                    self.patterns[node.term_set] = [re.compile(re.escape(t)) for t in terms]
        self.c = c

    def prepare(self, conversation) -> None:
        from apps.qa.rules.text import fold_keeping_spans

        for message in conversation.messages:
            message.norm = fold_keeping_spans(message.text)
            message.hits = {}
            for set_id, patterns in self.patterns.items():
                for term_index, pattern in enumerate(patterns):
                    for match in pattern.finditer(message.norm):
                        message.hits.setdefault(set_id, []).append((term_index, match.start(), match.end()))

    def evaluate(self, conversation):
        from apps.qa.rules.engine import _Context

        self.prepare(conversation)
        context = _Context(self.ruleset, conversation)
        return {rule.id: 1 for rule in self.ruleset.rules if context.eval(rule.tree).fired}


def matcher_speeds(terms: list[str], texts: list[str]) -> dict[str, float]:
    """The same terms found in the same texts three ways (the choice of matcher, by measurement)."""
    import ahocorasick_rs

    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    speeds = {}
    automaton = ahocorasick_rs.AhoCorasick(terms, implementation=ahocorasick_rs.Implementation.DFA)
    started = time.process_time()
    for text in texts:
        automaton.find_matches_as_indexes(text, overlapping=True)
    speeds["ahocorasick_rs (DFA)"] = megabytes / (time.process_time() - started)
    alternation = re.compile("|".join(map(re.escape, sorted(terms, key=len, reverse=True))))
    sample = texts[: max(1, len(texts) // 10)]
    started = time.process_time()
    for text in sample:
        alternation.findall(text)
    speeds["one re alternation"] = sum(len(t.encode()) for t in sample) / 1e6 / (time.process_time() - started)
    return speeds


def bench_scoring() -> tuple[list[str], dict]:
    from apps.qa.rules.conditions import parse_condition
    from apps.qa.rules.engine import CompiledRule, RuleSet

    lexicons = {
        "big": big_lexicon(20_000),
        "forbidden": FORBIDDEN,
        "complaint": COMPLAINT,
        "sensitive": SENSITIVE,
        "greeting": GREETING,
        "closing": CLOSING,
    }
    rules = [CompiledRule(n, f"r{n}", "minor", parse_condition(tree)) for n, tree in enumerate(RULES)]
    started = time.perf_counter()
    ruleset = RuleSet(rules, lexicons, ["被盗", "盗刷", "冻结"])
    compile_seconds = time.perf_counter() - started
    data = views(SCORE_N)
    messages = sum(len(v.messages) for v in data)
    fired_total = 0
    cpu = time.process_time()
    for view in data:
        fired_total += len(ruleset.evaluate(view))
    ours = time.process_time() - cpu
    naive = NaiveRuleSet(ruleset)
    cpu = time.process_time()
    same = True
    for view in data[:NAIVE_N]:
        same &= set(naive.evaluate(view)) == set(ruleset.evaluate(view))
    naive_seconds = (time.process_time() - cpu) / NAIVE_N * len(data)
    ours_rate, naive_rate = len(data) / ours, len(data) / naive_seconds
    matcher = matcher_speeds(lexicons["big"], [m.norm for v in data[:1000] for m in v.messages])
    lines = [
        f"rules: {len(RULES)}, lexicon terms: {sum(len(t) for t in lexicons.values())} (compiled in {compile_seconds:.2f} s); "
        f"{len(data)} demo conversations, {messages} messages, {fired_total} rule hits",
        f"engine: {ours_rate:,.0f} conversations/s on one core (target >= 2,000); naive per-term re.search: "
        f"{naive_rate:,.1f} conversations/s (on {NAIVE_N}) -> {ours_rate / naive_rate:,.0f}x faster (target >= 20x); "
        f"same rules fire: {same}",
        "matching the 20,000 terms alone, MB of text/s: " + ", ".join(f"{k} {v:.2f}" for k, v in matcher.items()),
    ]
    return lines, {
        "conversations": len(data),
        "messages": messages,
        "engine_conversations_per_second": ours_rate,
        "naive_conversations_per_second": naive_rate,
        "speedup": ours_rate / naive_rate,
        "same_results": same,
        "matcher_mb_per_second": matcher,
    }


def bench_scoring_end_to_end(count: int = 3000) -> tuple[list[str], dict]:
    """conversations_score over stored demo conversations: loading, evaluating, writing."""
    from django.db import connection

    from apps.catalog.models import Product
    from apps.conversations.models import Conversation
    from apps.conversations.services.ingest import conversations_ingest
    from apps.demo.conversations import generate_conversations
    from apps.qa.models import Lexicon, Rule, Scorecard
    from apps.qa.services.lexicons import lexicon_add_terms
    from apps.qa.services.scorecards import scorecard_import, scorecard_version_publish
    from apps.qa.services.scoring import conversations_score

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE qa_finding, qa_autoscore, qa_reviewtask, qa_samplingrun, qa_samplingplan, qa_criterion, "
            "qa_section, qa_scorecardversion, qa_scorecard_teams, qa_scorecard_channels, qa_scorecard, qa_rule, "
            "qa_lexiconterm, qa_lexicon, conversations_message, conversations_conversation, conversations_customer, "
            "conversations_agent RESTART IDENTITY CASCADE"
        )
    for slug in ("mall-app", "wallet-app"):
        Product.objects.get_or_create(slug=slug, defaults={"name": slug})
    items = list(generate_conversations(count, seed=5))
    for start in range(0, len(items), 1000):
        conversations_ingest(items[start : start + 1000], backfill=True)
    for code, terms in (
        ("big", big_lexicon(20_000)),
        ("forbidden", FORBIDDEN),
        ("complaint", COMPLAINT),
        ("sensitive", SENSITIVE),
        ("greeting", GREETING),
        ("closing", CLOSING),
    ):
        lexicon = Lexicon.objects.create(code=code, name=code)
        lexicon_add_terms(lexicon, terms)
    for n, tree in enumerate(RULES):
        Rule.objects.create(code=f"rule-{n}", name=f"rule {n}", condition=tree, severity="minor")
    card = {
        "format": "kbportal.scorecard/1",
        "name": "bench",
        "sections": [
            {
                "title": "all",
                "criteria": [
                    {"title": f"c{n}", "mode": "automatic", "points": 10, "rule": f"rule-{n}"}
                    for n in range(len(RULES))
                ],
            }
        ],
    }
    scorecard_version_publish(scorecard_import(card))
    ids = list(Conversation.objects.order_by("id").values_list("id", flat=True))
    conversations_score(ids[:10])  # compile the rules once, as a long-running worker has
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(ids), 500):
        conversations_score(ids[start : start + 500])
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    Scorecard.objects.all().delete()
    return [
        f"conversations_score end to end (load, evaluate, write scores and findings; batches of 500): "
        f"{len(ids) / wall:,.0f} conversations/s wall, {len(ids) / cpu:,.0f} per second of worker CPU"
    ], {"end_to_end_per_second": len(ids) / wall, "end_to_end_per_cpu_second": len(ids) / cpu}


def bench_sampling() -> tuple[list[str], dict]:
    from django.db import connection

    from apps.qa.models import SamplingPlan
    from apps.qa.services.sampling import sampling_run
    from apps.qa.services.scorecards import scorecard_import, scorecard_version_publish

    week = datetime.fromisoformat("2026-11-02T00:00:00+08:00")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE qa_finding, qa_autoscore, qa_reviewtask, qa_samplingrun, qa_samplingplan, "
            "conversations_message, conversations_conversation, conversations_customer, conversations_agent "
            "RESTART IDENTITY CASCADE"
        )
        cursor.execute(
            "INSERT INTO conversations_agent (code, name, kind, created_at) "
            "SELECT 'agent-' || n, '', 'human', now() - interval '1 year' FROM generate_series(1, 500) n"
        )
        cursor.execute("SELECT id FROM conversations_channel ORDER BY id LIMIT 1")
        channel = cursor.fetchone()[0]
        started = time.perf_counter()
        cursor.execute(
            """
            INSERT INTO conversations_conversation (
                channel_id, external_id, served_by_id, started_at, ended_at, received_at, updated_at, tags,
                resolution, message_count, customer_message_count, agent_message_count, bot_message_count, handoff,
                bot_failure_streak, repeat_contact, masked_count, csat, sla_breached)
            SELECT %s, 'c-' || n, 1 + n %% 500, %s + (n %% 604800) * interval '1 second',
                   %s + (n %% 604800 + 300) * interval '1 second', now(), now(), '{}', '', 12, 6, 4, 2, false,
                   (n %% 7)::smallint, false, 0, 1 + n %% 5, n %% 50 = 0
            FROM generate_series(1, %s) n
            """,
            [channel, week, week, SAMPLE_N],
        )
        cursor.execute("ANALYZE conversations_conversation")
        built = time.perf_counter() - started
    version = scorecard_version_publish(
        scorecard_import(
            {
                "format": "kbportal.scorecard/1",
                "name": "sampling bench",
                "sections": [{"title": "s", "criteria": [{"title": "manual", "mode": "manual", "points": 10}]}],
            }
        )
    )
    plan = SamplingPlan.objects.create(
        name="bench 2 %",
        scorecard=version.scorecard,
        period=SamplingPlan.Period.WEEK,
        rate_percent=2,
        min_per_agent=1,
        max_per_agent=1000,
        min_messages=3,
        include_risky=False,
        new_agent_days=0,
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = sampling_run(plan, week)
    seconds = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    again = sampling_run(plan, week)
    repeat = time.perf_counter() - started
    lines = [
        f"sampling: {result.sampled:,} of {SAMPLE_N:,} conversations (500 agents, one week) in {seconds:.2f} s "
        f"(target < 10 s), peak RSS of this process {rss_after // 1024} MiB ({(rss_after - rss_before) // 1024} MiB "
        f"more than before the run); the same period again: {again.sampled} added in {repeat:.3f} s; "
        f"building the {SAMPLE_N:,} conversations took {built:.1f} s",
    ]
    return lines, {
        "sampled": result.sampled,
        "seconds": seconds,
        "peak_rss_mib": rss_after // 1024,
        "repeat_added": again.sampled,
    }


def main() -> None:
    setup_django()
    lines, data = [], {}
    part, data["scoring"] = bench_scoring()
    lines += part
    part, data["end_to_end"] = bench_scoring_end_to_end()
    lines += part
    part, data["sampling"] = bench_sampling()
    lines += part
    report("qa", lines, data)


if __name__ == "__main__":
    main()
