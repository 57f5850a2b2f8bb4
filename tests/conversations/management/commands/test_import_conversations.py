"""`manage.py import_conversations`: streaming files in three formats, with line numbers for bad ones."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.conversations.models import Conversation, Message
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[2] / "formats" / "data"  # the WeCom sample beside its reader's tests


@pytest.fixture(autouse=True)
def mall():
    return ProductFactory(slug="mall-app", name="母婴商城 App")


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_conversations", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def conversation_line(external_id: str, **fields) -> str:
    body = {
        "channel": "app",
        "external_id": external_id,
        "product": "mall-app",
        "customer": "u-1",
        "messages": [
            {"id": "m1", "role": "customer", "sender": "u-1", "sent_at": "2026-11-02T10:00:00+08:00", "text": "在吗"},
            {"id": "m2", "role": "agent", "sender": "agent-1", "sent_at": "2026-11-02T10:00:40+08:00", "text": "在的"},
        ],
        **fields,
    }
    return json.dumps(body, ensure_ascii=False)


def test_jsonl_imports_and_reports_bad_lines_by_number(tmp_path):
    file = tmp_path / "conversations.jsonl"
    file.write_text(
        "\n".join([conversation_line("a-1"), "{not json", conversation_line("a-2", csat=7), conversation_line("a-3")])
        + "\n"
    )
    out, err = run(file)
    assert "2 imported, 0 updated, 2 rejected; 4 new messages." in out
    assert "line 2: not valid JSON" in err and "line 3: csat:" in err
    assert sorted(Conversation.objects.values_list("external_id", flat=True)) == ["a-1", "a-3"]
    assert Conversation.objects.get(external_id="a-1").human_first_response_seconds == 40


def test_importing_the_same_file_again_adds_nothing(tmp_path):
    file = tmp_path / "conversations.jsonl"
    file.write_text(conversation_line("a-1") + "\n" + conversation_line("a-2") + "\n")
    run(file)
    out, _err = run(file)
    assert "0 imported, 2 updated, 0 rejected; 0 new messages." in out
    assert Message.objects.count() == 4


def test_csv_rows_of_one_conversation_become_one_conversation(tmp_path):
    file = tmp_path / "conversations.csv"
    file.write_text(
        "channel,conversation_id,product,team,customer,csat,resolution,tags,message_id,role,sender,sent_at,text,type\n"
        "web,w-1,mall-app,售后一组,u-9,5,resolved,退款;投诉,1,customer,u-9,2026-11-02T10:00:00+08:00,退款没到,text\n"
        "web,w-1,mall-app,售后一组,u-9,5,resolved,退款;投诉,2,agent,agent-2,2026-11-02T10:01:00+08:00,帮您查,text\n"
        "web,w-2,mall-app,售后一组,u-8,,,,1,customer,u-8,not a time,你好,text\n"
    )
    out, err = run(file, "--format", "csv")
    assert "1 imported, 0 updated, 1 rejected" in out and "line 4: messages[0].sent_at" in err
    conversation = Conversation.objects.get(external_id="w-1")
    assert conversation.tags == ["投诉", "退款"] and conversation.csat == 5 and conversation.message_count == 2
    assert conversation.sla_tier.name == "紧急"  # tagged 投诉


def test_a_csv_without_the_needed_columns_is_refused_with_what_is_missing(tmp_path):
    file = tmp_path / "bad.csv"
    file.write_text("channel,text\nweb,你好\n")
    _out, err = run(file, "--format", "csv")
    assert "missing columns: conversation_id, message_id, role, sent_at" in err
    assert Conversation.objects.count() == 0


def test_wecom_dumps_become_conversations_per_customer_and_idle_gap():
    out, _err = run(DATA / "wecom_sync_msg.jsonl", "--format", "wecom", "--product", "mall-app", "--quiet")
    assert "4 imported" in out
    assert Conversation.objects.filter(channel__code="wechat", product__slug="mall-app").count() == 4
    assert Conversation.objects.filter(handoff=True).exists()
    assert set(Message.objects.values_list("role", flat=True)) == {"customer", "agent", "bot", "system"}
    out, _err = run(DATA / "wecom_sync_msg.jsonl", "--format", "wecom", "--product", "mall-app", "--quiet")
    assert "0 imported, 4 updated, 0 rejected; 0 new messages." in out


def test_a_missing_file_is_a_clear_error():
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_conversations", "/nonexistent/file.jsonl")


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_writer_processes_store_batches_while_the_next_is_read(tmp_path):
    ProductFactory(slug="mall-app")  # the transactional test database starts empty
    file = tmp_path / "conversations.jsonl"
    lines = [conversation_line(f"p-{i}", customer=f"u-{i}") for i in range(5)]  # spread over both writers
    lines.insert(3, conversation_line("p-bad", csat=0))
    file.write_text("\n".join(lines) + "\n")
    out, err = run(file, "--batch-size", "2")
    assert "5 imported, 0 updated, 1 rejected; 10 new messages." in out
    assert "line 4: csat:" in err
    assert Conversation.objects.count() == 5 and Message.objects.count() == 10
