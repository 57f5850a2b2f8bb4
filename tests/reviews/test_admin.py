"""The admin follows the workspace's scoping: a person reads in the admin exactly the conversations,
messages, scores, tasks, reviews and disputes they may read in /qa/, on lists and on change pages."""

import pytest

from apps.accounts import roles
from apps.conversations.models import Conversation
from apps.reviews.models import Review
from apps.reviews.services import review_open_task, review_submit
from tests.factories import UserFactory, all_pass, conversations, lead_of, setup_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_teams():
    """Team A's conversation with a reviewed task; team B's conversation nobody here is involved in."""
    [task], agent, reviewer, version = setup_tasks(1)
    review = review_submit(review_open_task(task, reviewer), reviewer, {"outcomes": all_pass(version)})
    [other_id] = conversations(1, agent="agent-b", team="售后二组")
    return {
        "mine": task.conversation,
        "other": Conversation.objects.get(pk=other_id),
        "task": task,
        "review": review,
        "agent": agent,
        "reviewer": reviewer,
    }


def test_a_reviewer_reads_only_their_tasks_conversations_in_the_admin(client, two_teams):
    client.force_login(two_teams["reviewer"])
    mine, other = two_teams["mine"], two_teams["other"]
    assert client.get(f"/admin/conversations/conversation/{mine.pk}/change/").status_code == 200
    # Another team's transcript: as if it did not exist (the admin redirects away from unknown objects).
    response = client.get(f"/admin/conversations/conversation/{other.pk}/change/")
    assert response.status_code == 302
    listed = client.get("/admin/conversations/conversation/").context["cl"].result_list
    assert {c.pk for c in listed} == {mine.pk}
    tasks = client.get("/admin/qa/reviewtask/").context["cl"].result_list
    assert {t.pk for t in tasks} == {two_teams["task"].pk}


def test_a_lead_reads_their_teams_and_an_administrator_everything(client, two_teams):
    lead = lead_of()  # leads 售后一组, team A
    client.force_login(lead)
    listed = {c.pk for c in client.get("/admin/conversations/conversation/").context["cl"].result_list}
    assert two_teams["mine"].pk in listed and two_teams["other"].pk not in listed
    administrator = UserFactory(role=roles.ADMINISTRATOR)
    client.force_login(administrator)
    listed = {c.pk for c in client.get("/admin/conversations/conversation/").context["cl"].result_list}
    assert {two_teams["mine"].pk, two_teams["other"].pk} <= listed


def test_blind_calibration_stays_blind_in_the_admin(client):
    """Another reviewer's review is neither listed nor opened (in calibration, reviewers score blind)."""
    [task], _agent, reviewer, version = setup_tasks(1)
    review_submit(review_open_task(task, reviewer), reviewer, {"outcomes": all_pass(version)})
    other_reviewer = UserFactory(role=roles.QA_REVIEWER)
    client.force_login(other_reviewer)
    review = Review.objects.get()
    assert client.get(f"/admin/reviews/review/{review.pk}/change/").status_code == 302
    assert not client.get("/admin/reviews/review/").context["cl"].result_list
