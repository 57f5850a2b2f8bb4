"""Roles are groups with least privilege; services enforce them whatever the entry point."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts import roles
from tests.factories import UserFactory, published_article

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)


@pytest.mark.parametrize(
    ("role", "can_edit", "can_publish"),
    [
        (roles.KNOWLEDGE_EDITOR, True, False),
        (roles.KNOWLEDGE_APPROVER, True, True),
        (roles.QA_REVIEWER, False, False),
        (roles.AGENT, False, False),
        (roles.ADMINISTRATOR, True, True),
    ],
)
def test_role_permissions(role, can_edit, can_publish):
    user = UserFactory(role=role)
    assert user.has_perm("knowledge.add_articleversion") is can_edit
    assert user.has_perm("knowledge.publish_content") is can_publish
    assert user.has_perm("knowledge.view_article")


def test_an_agent_cannot_reach_the_edit_page(client):
    article = published_article().article
    client.force_login(UserFactory(role=roles.AGENT))
    assert client.get(f"/admin/knowledge/article/{article.pk}/edit/").status_code == 403


def test_an_editor_pressing_publish_in_the_admin_gets_a_message_not_a_publish(client):
    from apps.knowledge.models import VersionStatus
    from apps.knowledge.services import workflow
    from tests.factories import draft_article, editor

    user = editor()
    version = draft_article(by=user)
    workflow.version_submit(version=version, by=user)
    client.force_login(user)

    response = client.post(
        f"/admin/knowledge/article/{version.article_id}/workflow/publish/", {"version": 1}, follow=True
    )

    assert "approver" in response.content.decode()
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW
