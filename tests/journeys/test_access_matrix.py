"""Who may open what, in one table: every admin list and change page, every /qa/ and /insights/ page and
every API endpoint, crossed with every role (and anonymous, and an API key of each scope). The README
prints the same table (``test_the_readme_prints_this_matrix`` keeps them together).

Row scopes (which conversations, tasks and reviews a role reads) are in tests/reviews/test_admin.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.accounts import roles
from tests.factories import UserFactory, lead_of, published_article, published_script, setup_tasks

pytestmark = pytest.mark.django_db

ROLES = {
    "editor": roles.KNOWLEDGE_EDITOR,
    "approver": roles.KNOWLEDGE_APPROVER,
    "reviewer": roles.QA_REVIEWER,
    "agent": roles.AGENT,
    "lead": roles.QA_LEAD,
    "admin": roles.ADMINISTRATOR,
}
KNOWLEDGE = "editor approver reviewer lead admin"
KNOWLEDGE_AND_AGENTS = "editor approver reviewer agent lead admin"
QA = "reviewer lead admin"

# The admin: the roles that open each model's list (and its change pages); everyone else gets a 403, and
# someone not signed in the sign-in page.
ADMIN = {
    "answers.answerpolicy": KNOWLEDGE,
    "answers.answerquery": KNOWLEDGE,
    "answers.confidencefit": KNOWLEDGE,
    "answers.humanonlytopic": KNOWLEDGE,
    "answers.synonym": KNOWLEDGE,
    "answers.term": KNOWLEDGE,
    "apikeys.apikey": "admin",
    "auth.group": "admin",
    "auth.user": "admin",
    "axes.accessattempt": "admin",
    "catalog.feature": KNOWLEDGE,
    "catalog.product": KNOWLEDGE_AND_AGENTS,
    "catalog.release": KNOWLEDGE,
    "conversations.agent": QA,
    "conversations.channel": QA,
    "conversations.conversation": QA,
    "conversations.customer": QA,
    "conversations.slatier": QA,
    "conversations.team": QA,
    "knowledge.article": KNOWLEDGE_AND_AGENTS,
    "knowledge.articleversion": KNOWLEDGE_AND_AGENTS,
    "knowledge.category": KNOWLEDGE,
    "knowledge.script": KNOWLEDGE_AND_AGENTS,
    "knowledge.scriptscenario": KNOWLEDGE_AND_AGENTS,
    "knowledge.scriptversion": KNOWLEDGE_AND_AGENTS,
    "knowledge.staleflag": KNOWLEDGE,
    "qa.autoscore": QA,
    "qa.lexicon": QA,
    "qa.lexiconterm": QA,
    "qa.rescorejob": QA,
    "qa.reviewtask": QA,
    "qa.rule": QA,
    "qa.samplingplan": QA,
    "qa.samplingrun": QA,
    "qa.scorecard": QA,
    "qa.scorecardversion": QA,
    "reviews.calibrationsession": QA,
    "reviews.dispute": QA,
    "reviews.review": QA,
}

# The portal's own pages: status per role (anonymous: the sign-in page, 302). "{task}" is a review task of
# the reviewer below: only its assignee opens it (to anyone else it does not exist); the agent's /qa/ sends
# them to their own reviews.
PORTAL = {
    "/qa/": {"editor": 403, "approver": 403, "reviewer": 200, "agent": 302, "lead": 200, "admin": 200},
    "/qa/tasks/{task}/": {"editor": 403, "approver": 403, "reviewer": 200, "agent": 404, "lead": 404, "admin": 404},
    "/qa/submitted/": {"editor": 403, "approver": 403, "reviewer": 200, "agent": 403, "lead": 200, "admin": 200},
    "/qa/my-reviews/": {"editor": 403, "approver": 403, "reviewer": 200, "agent": 200, "lead": 200, "admin": 200},
    "/qa/disputes/": {"editor": 403, "approver": 403, "reviewer": 200, "agent": 200, "lead": 200, "admin": 200},
    "/qa/calibrations/": {"editor": 403, "approver": 403, "reviewer": 200, "agent": 200, "lead": 200, "admin": 200},
    "/qa/calibrations/candidates/": {
        "editor": 403,
        "approver": 403,
        "reviewer": 403,
        "agent": 403,
        "lead": 200,
        "admin": 200,
    },
    "/qa/reports/": {"editor": 403, "approver": 403, "reviewer": 403, "agent": 403, "lead": 200, "admin": 200},
    "/insights/": {"editor": 403, "approver": 403, "reviewer": 403, "agent": 403, "lead": 200, "admin": 200},
    "/insights/knowledge/": {"editor": 200, "approver": 200, "reviewer": 403, "agent": 403, "lead": 200, "admin": 200},
}

# The API: the scope each endpoint needs. No key: 401; a key without the scope: 403; with it: served.
API = {
    ("POST", "/api/v1/answers/"): "answers",
    ("POST", "/api/v1/answers/{query}/choose/"): "answers",
    ("POST", "/api/v1/answers/{query}/feedback/"): "answers",
    ("GET", "/api/v1/articles/"): "articles:read",
    ("GET", "/api/v1/articles/{article}/"): "articles:read",
    ("GET", "/api/v1/scripts/"): "articles:read",
    ("GET", "/api/v1/scripts/{script}/"): "articles:read",
    ("POST", "/api/v1/releases/"): "releases:write",
    ("POST", "/api/v1/conversations/"): "conversations:write",
    ("GET", "/api/v1/conversations/{channel}/{conversation}/"): "conversations:read",
}
SCOPES = sorted(set(API.values()))


@pytest.fixture
def world():
    [task], _agent, reviewer, _version = setup_tasks(1)
    lead_of()
    article = published_article().article
    script = published_script().script
    return {
        "reviewer": reviewer,
        "task": task.pk,
        "article": article.external_id,
        "script": script.external_id,
        "channel": task.conversation.channel.code,
        "conversation": task.conversation.external_id,
        "query": uuid.uuid4(),
    }


def user_for(role: str, world):
    return world["reviewer"] if role == "reviewer" else UserFactory(role=ROLES[role])


def test_the_admin_opens_each_model_to_exactly_its_roles(client, world):
    assert set(ADMIN) == {model._meta.label_lower for model in admin.site._registry}  # every model is in the table
    wrong = []
    for role in ["anonymous", *ROLES]:
        client.logout()
        if role != "anonymous":
            client.force_login(user_for(role, world))
        for label, allowed in ADMIN.items():
            app, model = label.split(".")
            url = reverse(f"admin:{app}_{model}_changelist")
            expected = 302 if role == "anonymous" else 200 if role in allowed.split() else 403
            if (status := client.get(url).status_code) != expected:
                wrong.append((role, url, status, expected))
    assert not wrong, wrong


def test_the_portal_pages_open_to_exactly_their_roles(client, world):
    wrong = []
    for path, expected_by_role in PORTAL.items():
        url = path.format(**world)
        client.logout()
        if (status := client.get(url).status_code) != 302:
            wrong.append(("anonymous", url, status, 302))
        for role, expected in expected_by_role.items():
            client.force_login(user_for(role, world))
            if (status := client.get(url).status_code) != expected:
                wrong.append((role, url, status, expected))
    assert not wrong, wrong


def test_each_api_endpoint_needs_its_scope(api_key_client, world):
    from rest_framework.test import APIClient

    wrong = []
    for (method, path), scope in API.items():
        url = path.format(**world)
        for key in [None, *SCOPES]:
            client = APIClient() if key is None else api_key_client(key)
            response = client.generic(method, url, "{}", content_type="application/json")
            expected = "401" if key is None else "403" if key != scope else "served"
            got = str(response.status_code) if response.status_code in (401, 403) else "served"
            if got != expected:
                wrong.append((method, url, key, response.status_code, expected))
    assert not wrong, wrong


def markdown() -> str:
    """The matrix as the README prints it."""
    lines = ["| page | " + " | ".join(ROLES) + " |", "|---|" + "---|" * len(ROLES)]
    for path, by_role in PORTAL.items():
        lines.append(f"| `{path}` | " + " | ".join(str(by_role[r]) for r in ROLES) + " |")
    for label, allowed in ADMIN.items():
        cells = ["200" if r in allowed.split() else "403" for r in ROLES]
        lines.append(f"| admin `{label}` | " + " | ".join(cells) + " |")
    lines += ["", "| API | scope |", "|---|---|"]
    lines += [f"| `{method} {path}` | `{scope}` |" for (method, path), scope in API.items()]
    return "\n".join(lines)


def test_the_readme_prints_this_matrix():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    paste = "tests.journeys.test_access_matrix.markdown()"
    assert markdown() in readme, f"README's access matrix is out of date: paste {paste}"
