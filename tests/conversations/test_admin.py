"""QA leads and reviewers read conversations in the admin; editors and agents do not."""

import pytest

from apps.accounts import roles
from apps.conversations.models import Conversation
from apps.conversations.services.ingest import conversations_ingest
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored():
    ProductFactory(slug="mall-app")
    conversations_ingest(
        [
            {
                "channel": "wechat",
                "external_id": "c-1",
                "product": "mall-app",
                "team": "售后一组",
                "customer": "u-1",
                "messages": [
                    {
                        "id": "1",
                        "role": "customer",
                        "sender": "u-1",
                        "sent_at": "2026-11-02T10:00:00+08:00",
                        "text": "手机 13812345678",
                    },
                    {
                        "id": "2",
                        "role": "agent",
                        "sender": "agent-1",
                        "sent_at": "2026-11-02T10:00:30+08:00",
                        "text": "您好",
                    },
                ],
            }
        ]
    )
    return Conversation.objects.get()


@pytest.mark.parametrize("role", [roles.QA_LEAD, roles.ADMINISTRATOR])
def test_qa_roles_read_conversations_with_metrics_and_masked_messages(client, stored, role):
    user = UserFactory(role=role)
    if stored.team is not None:
        stored.team.leads.add(user)  # a lead reads their teams' conversations (tests/reviews/test_admin.py)
    client.force_login(user)
    for url in [
        "/admin/conversations/conversation/",
        "/admin/conversations/conversation/?sla_breached__exact=0",
        "/admin/conversations/team/",
        "/admin/conversations/slatier/",
        "/admin/conversations/agent/",
    ]:
        assert client.get(url).status_code == 200, url
    page = client.get(f"/admin/conversations/conversation/{stored.pk}/change/").content.decode()
    assert "138****5678" in page and "13812345678" not in page


def test_editors_and_agents_do_not_see_conversations(client, stored):
    for role in (roles.KNOWLEDGE_EDITOR, roles.AGENT):
        client.force_login(UserFactory(role=role))
        assert client.get("/admin/conversations/conversation/").status_code == 403


def test_a_lead_cannot_make_themselves_lead_of_another_team(client):
    from apps.conversations.models import Team

    mine, other = Team.objects.create(name="售后一组"), Team.objects.create(name="售后二组")
    lead = UserFactory(role=roles.QA_LEAD)
    mine.leads.add(lead)
    client.force_login(lead)
    response = client.post(
        f"/admin/conversations/team/{other.pk}/change/", {"name": other.name, "business_hours": "", "leads": [lead.pk]}
    )
    assert response.status_code in (200, 302)
    assert not other.leads.filter(pk=lead.pk).exists()
    administrator = UserFactory(role=roles.ADMINISTRATOR)
    client.force_login(administrator)
    page = client.get(f"/admin/conversations/team/{other.pk}/change/").content.decode()
    assert 'name="leads"' in page  # who may manage people assigns leads
