"""`manage.py load_demo`: the whole demo through the product's services, and loading it again changes nothing."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.roles import ALL_ROLES
from apps.catalog.models import Product, Release
from apps.conversations.models import Conversation, Message
from apps.demo.conversations import load_demo_conversations
from apps.demo.files import read_json
from apps.demo.users import demo_password
from apps.insights.models import DailyServiceStats
from apps.knowledge.models import Article, ArticleVersion, Script, StaleFlag
from apps.qa.models import AutoScore, Lexicon, ReviewTask, Rule, SamplingPlan, Scorecard, ScorecardVersion

pytestmark = pytest.mark.django_db

CONVERSATIONS = 60
COUNTED = [
    Product,
    Release,
    Article,
    ArticleVersion,
    Script,
    StaleFlag,
    Conversation,
    Message,
    Lexicon,
    Rule,
    Scorecard,
    ScorecardVersion,
    SamplingPlan,
    AutoScore,
    ReviewTask,
    DailyServiceStats,
]


def load_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", "--conversations", str(CONVERSATIONS), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in [*COUNTED, get_user_model()]}


def test_loading_the_demo_fills_every_part_and_loading_it_again_changes_nothing():
    out = load_demo()

    users = read_json("users.json")
    assert len(users) == len(ALL_ROLES)
    for data in users:
        user = get_user_model().objects.get(username=data["username"])
        assert user.check_password(demo_password(user.username)) and user.is_staff
        assert list(user.groups.values_list("name", flat=True)) == [data["role"]]
        assert f"{user.username:<9} {demo_password(user.username):<22} {data['role']}" in out
    assert Article.objects.exists() and Script.objects.exists() and StaleFlag.objects.exists()
    assert f"{CONVERSATIONS} created, 0 already there, 0 rejected." in out
    assert Conversation.objects.count() == CONVERSATIONS
    assert Conversation.objects.filter(handoff=True).exists()
    assert not Conversation.objects.filter(message_count=0).exists()
    assert AutoScore.objects.count() == CONVERSATIONS  # one published scorecard applies to every conversation
    assert ReviewTask.objects.exists() and DailyServiceStats.objects.exists()
    assert "QA demo: 6 lexicons" in out
    before = counts()
    passwords = dict(get_user_model().objects.values_list("username", "password"))
    articles = list(Article.objects.order_by("pk").values_list("pk", "updated_at"))
    versions = list(ArticleVersion.objects.order_by("pk").values_list("pk", "status", "content_hash"))
    tasks = list(ReviewTask.objects.order_by("pk").values_list("pk", "assignee_id", "conversation_id"))

    again = load_demo()

    assert counts() == before
    assert dict(get_user_model().objects.values_list("username", "password")) == passwords
    assert list(Article.objects.order_by("pk").values_list("pk", "updated_at")) == articles
    assert list(ArticleVersion.objects.order_by("pk").values_list("pk", "status", "content_hash")) == versions
    assert list(ReviewTask.objects.order_by("pk").values_list("pk", "assignee_id", "conversation_id")) == tasks
    assert f"0 created, {CONVERSATIONS} already there, 0 rejected." in again
    assert "0 scripts created; 0 releases recorded; 0 stale flags raised." in again
    assert "0 conversations scored" in again


def test_a_negative_number_of_conversations_is_refused():
    with pytest.raises(CommandError, match="--conversations"):
        load_demo("--conversations", "-1")


def test_demo_conversations_need_the_demo_products():
    Product.objects.filter(slug="wallet-app").delete()

    with pytest.raises(LookupError, match="wallet-app"):
        load_demo_conversations(5)
