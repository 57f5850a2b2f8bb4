"""The editor's and the lead's day in a real browser: an Excel import with a conflicting row fixed and
published, and the bot's answer changing; a release that flags articles, cleared from the stale queue; a
lead reading the service dashboard and drilling down to a conversation."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from apps.accounts import roles
from apps.apikeys.services import api_key_issue
from apps.conversations.models import Team
from apps.conversations.services.ingest import conversations_ingest
from apps.insights.services.rollups import rollups_refresh_pending
from apps.knowledge.formats import SPREADSHEET_COLUMNS
from apps.knowledge.models import StaleFlag
from tests.conftest import wait_for
from tests.e2e.conftest import shot
from tests.factories import DAY, FeatureFactory, ProductFactory, UserFactory, answer_policy, published_article

pytestmark = pytest.mark.django_db(transaction=True)

OLD = "退款审核通过后 1–3 个工作日原路退回。"
NEW = "退款审核通过后 3–5 个工作日原路退回，节假日顺延。"


def workbook(path: Path, rows: list[dict]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(SPREADSHEET_COLUMNS)
    for row in rows:
        sheet.append([row.get(column, "") for column in SPREADSHEET_COLUMNS])
    book.save(path)
    return path


def ask(page, key: str, question: str) -> dict:
    response = page.request.post(
        page.base + "/api/v1/answers/", data={"question": question}, headers={"Authorization": f"Api-Key {key}"}
    )
    assert response.ok, response.text()
    return response.json()


def test_an_editor_imports_fixes_a_conflict_publishes_and_the_bot_answers_anew(
    page_as, celery_worker, tmp_path, settings
):
    answer_policy(answer=0.0)
    mall = ProductFactory(slug="mall-app", name="母婴商城 App")
    published_article(
        product=mall,
        external_id="faq-refund",
        standard_question="退款多久到账？",
        similar_questions=["退款什么时候到"],
        answer=OLD,
    )
    key = api_key_issue(name="bot", scopes=["answers"]).plaintext
    editor = UserFactory(role=roles.KNOWLEDGE_APPROVER)
    page = page_as(editor)
    wait_for(lambda: ask(page, key, "退款多久能到账")["answer"] is not None, timeout=60)
    assert ask(page, key, "退款多久能到账")["answer"]["text"] == OLD

    row = {
        "external_id": "faq-refund",
        "product": "mall-app",
        "standard_question": "退款多久到账？",
        "similar_questions": "退款什么时候到",
        "answer": NEW,
    }
    conflicting = workbook(tmp_path / "faq.xlsx", [row, {**row, "answer": "另一个说法"}])
    page.goto(page.base + "/admin/knowledge/article/import/")
    page.set_input_files('input[name="file"]', str(conflicting))
    page.locator("#content-main form").get_by_role("button", name="导入").click()
    expect(page.get_by_text("faq-refund").first).to_be_visible()
    expect(page.locator("table td").filter(has_text=re.compile("2"))).not_to_have_count(0)
    shot(page, "11-import-conflict")

    fixed = workbook(tmp_path / "faq-fixed.xlsx", [row])
    page.set_input_files('input[name="file"]', str(fixed))
    page.locator("#content-main form").get_by_role("button", name="导入").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    shot(page, "12-import-published")
    wait_for(lambda: (ask(page, key, "退款多久能到账")["answer"] or {}).get("text") == NEW, timeout=60)


def test_a_release_flags_articles_and_the_editor_clears_the_queue(page_as, celery_worker):
    mall = ProductFactory(slug="mall-app", name="母婴商城 App")
    FeatureFactory(product=mall, slug="refund", name="退款")
    published_article(product=mall, external_id="faq-refund", features=["refund"])
    key = api_key_issue(name="release bot", scopes=["releases:write"]).plaintext
    editor = UserFactory(role=roles.KNOWLEDGE_APPROVER)
    page = page_as(editor)
    response = page.request.post(
        page.base + "/api/v1/releases/",
        data={"product": "mall-app", "version": "5.3.0", "changed_features": ["refund"]},
        headers={"Authorization": f"Api-Key {key}"},
    )
    assert response.status == 201, response.text()
    wait_for(lambda: StaleFlag.objects.filter(cleared_at__isnull=True).exists(), timeout=60)

    page.goto(page.base + "/insights/knowledge/")
    page.locator("#products a.stale-articles").first.click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto(page.base + "/admin/knowledge/staleflag/?open=yes")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    shot(page, "13-stale-queue")
    page.locator("#action-toggle").check()
    page.locator('select[name="action"]').select_option("verify_content")
    page.locator('button[name="index"]').click()
    expect(page.locator(".messagelist")).to_be_visible()
    page.goto(page.base + "/admin/knowledge/staleflag/?open=yes")
    expect(page.locator("#result_list tbody tr")).to_have_count(0)
    assert not StaleFlag.objects.filter(cleared_at__isnull=True).exists()


def test_a_lead_reads_the_dashboard_and_drills_down_to_a_conversation(page_as):
    ProductFactory(slug="mall-app")
    items = []
    for n in range(12):
        start = DAY + timedelta(hours=9, minutes=7 * n)
        items.append(
            {
                "channel": "wechat",
                "external_id": f"dash-{n}",
                "product": "mall-app",
                "team": "售后一组",
                "customer": f"u-{n}",
                "csat": 1 + n % 5,
                "messages": [
                    {"id": "1", "role": "customer", "sender": f"u-{n}", "sent_at": start.isoformat(), "text": "在吗"},
                    {
                        "id": "2",
                        "role": "agent",
                        "sender": "agent-7" if n % 2 else "agent-8",
                        "sent_at": (start + timedelta(seconds=30 + n)).isoformat(),
                        "text": "您好，请讲",
                    },
                ],
            }
        )
    conversations_ingest(items)
    rollups_refresh_pending()
    lead = UserFactory(role=roles.QA_LEAD)
    Team.objects.get(name="售后一组").leads.add(lead)  # a lead reads the figures and transcripts of their teams
    page = page_as(lead)
    page.goto(page.base + f"/insights/?start={DAY:%Y-%m-%d}&end={DAY:%Y-%m-%d}")
    expect(page.locator('.card[data-metric="conversations"] .value')).to_have_text("12")
    expect(page.locator("#by-agent tbody tr")).to_have_count(2)
    shot(page, "14-dashboard")
    page.locator("#by-agent a.drill").first.click()
    page.wait_for_url(re.compile(r"/admin/conversations/conversation/\?"))
    expect(page.locator("#result_list tbody tr")).to_have_count(6)
    shot(page, "15-drilldown")
    page.locator("#result_list tbody tr th a").first.click()
    expect(page.get_by_text("您好，请讲").first).to_be_visible()
    shot(page, "16-conversation")
