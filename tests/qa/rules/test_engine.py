"""QA rules: what each condition type fires on, with which evidence, and how conditions combine."""

import pytest

from apps.qa.rules.conditions import InvalidCondition, parse_condition, required_literal
from apps.qa.rules.engine import MAX_EVIDENCE_PER_RULE, CompiledRule, ConversationView, MessageView, RuleSet

pytestmark = pytest.mark.django_db

LEXICONS = {
    "forbidden": ["不知道", "自己看", "爱买不买"],
    "greeting": ["您好", "你好"],
    "complaint": ["投诉", "12315"],
    "refund": ["退款", "退钱"],
}


def conversation(*messages: tuple[str, str], **fields) -> ConversationView:
    return ConversationView(
        id=1, messages=[MessageView(i, 100 + i, role, text) for i, (role, text) in enumerate(messages)], **fields
    )


def fires(tree: dict, convo: ConversationView, topics=()) -> list:
    """The evidence of the rule if it fires on the conversation, else None."""
    ruleset = RuleSet([CompiledRule(1, "r", "major", parse_condition(tree))], LEXICONS, topics)
    return ruleset.evaluate(convo).get(1)


SAMPLE = conversation(
    ("customer", "我要退款，你们再不处理我就去12315投诉"),
    ("bot", "您好，退款一般1-3个工作日到账"),
    ("customer", "不是这个"),
    ("agent", "您好，我是客服小美"),
    ("agent", "这个我也不知道，你自己看订单页"),
    ("customer", "什么态度"),
)


# --- keywords: any / all / at least N / none, scoped by role and position -----------------------


def test_keywords_any_hits_with_the_message_and_span():
    evidence = fires({"type": "keywords", "lexicon": "forbidden", "role": "agent"}, SAMPLE)
    assert [(e.message, e.matched) for e in evidence] == [(4, "不知道"), (4, "自己看")]
    assert SAMPLE.messages[4].text[evidence[0].start : evidence[0].end] == "不知道"


def test_keywords_respect_the_role():
    assert fires({"type": "keywords", "lexicon": "forbidden", "role": "customer"}, SAMPLE) is None


def test_keywords_all_needs_every_term_and_at_least_counts_distinct_terms():
    assert fires({"type": "keywords", "terms": ["退款", "12315"], "match": "all"}, SAMPLE)
    assert fires({"type": "keywords", "terms": ["退款", "发票"], "match": "all"}, SAMPLE) is None
    assert fires({"type": "keywords", "lexicon": "forbidden", "match": "at_least", "n": 2}, SAMPLE)
    assert fires({"type": "keywords", "lexicon": "forbidden", "match": "at_least", "n": 3}, SAMPLE) is None


def test_keywords_none_fires_when_no_term_appears():
    no_apology = {"type": "keywords", "terms": ["抱歉"], "match": "none", "role": "agent"}
    assert fires(no_apology, SAMPLE) is not None
    assert fires({"type": "keywords", "terms": ["您好"], "match": "none", "role": "agent"}, SAMPLE) is None


def test_position_first_agent_reply_and_last_n():
    greeting = {"type": "keywords", "lexicon": "greeting", "role": "agent", "position": "first_agent_reply"}
    assert [e.message for e in fires(greeting, SAMPLE)] == [3]
    last_two = {"type": "keywords", "lexicon": "forbidden", "position": "last_n", "n_messages": 1}
    assert fires(last_two, SAMPLE) is None  # the last message is the customer's


def test_traditional_and_full_width_text_matches_simplified_terms():
    convo = conversation(("agent", "這個我不知道，ＡＢＣ"))
    evidence = fires({"type": "keywords", "terms": ["不知道", "abc"]}, convo)
    assert [e.matched for e in evidence] == ["不知道", "ＡＢＣ"]  # evidence is the original text


# --- combinators and proximity ------------------------------------------------------------------


def test_and_or_not():
    refund = {"type": "keywords", "lexicon": "refund", "role": "customer"}
    invoice = {"type": "keywords", "terms": ["发票"]}
    assert fires({"all": [refund, {"not": invoice}]}, SAMPLE)
    assert fires({"all": [refund, invoice]}, SAMPLE) is None
    assert fires({"any": [invoice, refund]}, SAMPLE)
    assert fires({"not": refund}, SAMPLE) is None


def test_near_in_the_same_message_or_within_n_messages():
    refund = {"type": "keywords", "lexicon": "refund", "role": "customer"}
    complaint = {"type": "keywords", "lexicon": "complaint", "role": "customer"}
    attitude = {"type": "keywords", "terms": ["什么态度"], "role": "customer"}
    same = fires({"type": "near", "conditions": [refund, complaint], "within": 0}, SAMPLE)
    assert {e.matched for e in same} == {"退款", "12315", "投诉"}
    assert fires({"type": "near", "conditions": [refund, attitude], "within": 0}, SAMPLE) is None
    assert fires({"type": "near", "conditions": [refund, attitude], "within": 5}, SAMPLE)


# --- regular expressions --------------------------------------------------------------------------


def test_regex_with_an_exclusion_pattern():
    convo = conversation(("agent", "请加我微信 abc123 联系"), ("agent", "官方微信公众号：客服中心"))
    rule = {"type": "regex", "pattern": "微信\\s*[a-z0-9]{5,}", "exclude": "公众号", "role": "agent"}
    assert [(e.message, e.matched) for e in fires(rule, convo)] == [(0, "微信 abc123")]


def test_a_regex_runs_only_where_its_required_text_is():
    assert required_literal("微信\\s*[a-z0-9]{5,}") == "微信"
    assert required_literal("(a|b)c") is None
    convo = conversation(("agent", "没有那个词"))
    assert fires({"type": "regex", "pattern": "微信\\d+"}, convo) is None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("(微信)\\1", "invalid escape sequence"), ("微信(?=\\d)", "invalid perl operator"), ("([a-", "missing ]")],
)
def test_a_regex_the_linear_time_engine_cannot_run_is_refused_with_the_reason(pattern, reason):
    with pytest.raises(InvalidCondition) as caught:
        parse_condition({"type": "regex", "pattern": pattern})
    [message] = caught.value.errors["$.pattern"]
    assert reason in message and "RE2" in message


def test_a_pattern_that_backtracks_forever_elsewhere_runs_in_one_pass_on_a_long_message():
    # Python's re never returns on this; RE2 reads the 1 MB message once.
    convo = conversation(("customer", "a" * 1_000_000 + "!"))
    assert fires({"type": "regex", "pattern": "(a+)+$"}, convo) is None
    assert fires({"type": "regex", "pattern": "(a+)+!$"}, convo)


def test_proximity_over_many_hits_is_linear_and_stores_a_bounded_number_of_them():
    # 2,000 messages each holding both terms 50 times: 100,000 hits a side, every pair within reach.
    text = "我要退款，我要投诉。" * 50
    convo = conversation(*[("customer", text)] * 2_000)
    near = {
        "type": "near",
        "conditions": [{"type": "keywords", "terms": ["退款"]}, {"type": "keywords", "terms": ["投诉"]}],
        "within": 1_000,
    }
    evidence = fires(near, convo)
    assert len(evidence) == MAX_EVIDENCE_PER_RULE
    assert {e.matched for e in evidence} == {"退款"}  # the first side's hits come first


def test_proximity_pairs_only_hits_within_reach():
    convo = conversation(("customer", "退款"), *[("customer", "嗯")] * 5, ("customer", "投诉"), ("customer", "退款"))
    within_one = fires(
        {
            "type": "near",
            "conditions": [{"type": "keywords", "terms": ["退款"]}, {"type": "keywords", "terms": ["投诉"]}],
            "within": 1,
        },
        convo,
    )
    assert [(e.message, e.matched) for e in within_one] == [(7, "退款"), (6, "投诉")]


# --- required phrases, timing, bots, metadata ------------------------------------------------------


def test_missing_greeting_in_the_first_agent_reply():
    rude = conversation(("customer", "在吗"), ("agent", "说"), ("agent", "您好"))
    rule = {"type": "missing_phrase", "lexicon": "greeting", "position": "first_agent_reply"}
    assert [e.message for e in fires(rule, rude)] == [1]
    assert fires(rule, SAMPLE) is None
    assert fires(rule, conversation(("customer", "在吗"), ("bot", "您好"))) is None  # no agent: nothing to judge


def test_timing_against_the_metrics():
    slow = conversation(("customer", "在吗"), metrics={"human_first_response_seconds": 400, "sla_breached": True})
    assert fires({"type": "timing", "metric": "human_first_response", "over_seconds": 300}, slow)
    assert fires({"type": "timing", "metric": "human_first_response", "over_seconds": 500}, slow) is None
    assert fires({"type": "timing", "metric": "sla_breached"}, slow)


def test_bot_failure_streak_without_handoff():
    stuck = conversation(("customer", "x"), metrics={"bot_failure_streak": 3}, handoff=False)
    rescued = conversation(("customer", "x"), metrics={"bot_failure_streak": 3}, handoff=True)
    rule = {"type": "bot_failure_streak", "min": 3, "without_handoff": True}
    assert fires(rule, stuck) and fires(rule, rescued) is None


def test_a_human_only_topic_answered_by_the_bot():
    answered = conversation(("customer", "我的账户被盗了"), ("bot", "您可以修改密码"))
    handed_off = conversation(("customer", "我的账户被盗了"), ("system", "转人工"), ("agent", "我来处理"))
    transferred = conversation(("customer", "我的账户被盗了"), ("bot", "正在为您转接专员"), ("agent", "您好，我来处理"))
    rule = {"type": "human_only_topic"}
    assert [e.message for e in fires(rule, answered, topics=["被盗"])] == [0, 1]
    assert fires(rule, handed_off, topics=["被盗"]) is None
    assert fires(rule, transferred, topics=["被盗"]) is None


def test_metadata_conditions():
    convo = conversation(("customer", "x"), channel="wechat", csat=2, tags=["投诉"])
    assert fires({"type": "metadata", "field": "csat", "op": "lte", "value": 2}, convo)
    assert fires({"type": "metadata", "field": "channel", "op": "in", "value": ["app", "web"]}, convo) is None
    assert fires({"type": "metadata", "field": "tags", "op": "contains", "value": "投诉"}, convo)


def test_negative_emotion_of_the_customer_and_impoliteness_of_the_agent():
    angry = conversation(("customer", "你们这服务太差劲了，气死我了！！！"), ("agent", "您好，非常抱歉给您带来不便"))
    assert fires({"type": "negative_emotion"}, angry)
    assert fires({"type": "impolite"}, angry) is None


# --- every problem of a bad tree, by its path ------------------------------------------------------


def test_a_bad_tree_reports_every_problem_by_path():
    with pytest.raises(InvalidCondition) as caught:
        parse_condition(
            {
                "all": [
                    {"type": "keywords", "role": "boss"},
                    {"type": "regex", "pattern": "([a-"},
                    {
                        "type": "near",
                        "conditions": [{"type": "timing", "metric": "sla_breached"}, {"type": "impolite"}],
                    },
                    {"type": "teleport"},
                ]
            }
        )
    errors = caught.value.errors
    assert set(errors) >= {"$.all[0]", "$.all[0].role", "$.all[1].pattern", "$.all[2].conditions[0]", "$.all[3].type"}
