"""Script placeholders: only declared names, reported with their exact position."""

import pytest

from apps.core.errors import ValidationFailed
from apps.knowledge.placeholders import check_placeholders
from apps.knowledge.services import workflow
from apps.knowledge.services.content import ScriptContent
from tests.factories import ProductFactory, ScenarioFactory

DECLARED = ["customer_name", "order_id"]


def test_declared_placeholders_pass():
    assert check_placeholders("您好{customer_name}，订单{order_id}已退款。", DECLARED) == []


def test_an_undeclared_placeholder_is_reported_with_line_and_column():
    [problem] = check_placeholders("您好{customer_name}，\n退款{refund_amount}元", DECLARED)
    assert (problem.line, problem.column, problem.offset) == (2, 3, 21)
    assert "refund_amount" in problem.message and "not declared" in problem.message


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("您好{customer_name", 3, "not closed"),
        ("订单 order_id} 已发货", 12, "without a matching"),
        ("您好{}", 3, "Empty"),
        ("您好{客户 名}", 3, "not a valid placeholder name"),
    ],
)
def test_malformed_placeholders_are_reported_where_they_are(text, column, words):
    [problem] = check_placeholders(text, DECLARED)
    assert problem.column == column
    assert words in problem.message


@pytest.mark.django_db
def test_saving_a_script_with_a_bad_placeholder_is_refused_with_the_position():
    with pytest.raises(ValidationFailed) as caught:
        workflow.script_create(
            external_id="s-1",
            product=ProductFactory(),
            scenario=ScenarioFactory(),
            by=None,
            content=ScriptContent(title="催付", text="亲{customer_name}，请在{deadline}前付款"),
        )
    [message] = caught.value.field_errors["text"]
    assert "line 1, column 20" in message and "{deadline}" in message
