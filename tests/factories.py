"""Factories and small builders for tests: real rows, made through the same services the product uses
where it matters (knowledge through the workflow, conversations through ingestion, scorecards through their
services, review tasks through scoring, sampling and assignment)."""

from __future__ import annotations

from datetime import datetime, timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.accounts import roles
from apps.catalog.models import Feature, Product
from apps.conversations.models import Agent, Conversation, Team
from apps.conversations.services.ingest import conversations_ingest
from apps.knowledge.models import ArticleVersion, Category, ScriptScenario, ScriptVersion
from apps.knowledge.services import workflow
from apps.knowledge.services.content import ArticleContent, ScriptContent
from apps.qa.models import (
    Criterion,
    Lexicon,
    LexiconTerm,
    ReviewTask,
    Rule,
    SamplingPlan,
    Scorecard,
    ScorecardVersion,
    Section,
)
from apps.qa.services.sampling import sampling_run
from apps.qa.services.scorecards import scorecard_version_new_draft, scorecard_version_publish
from apps.qa.services.scoring import conversations_score


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.save()


def editor(**kwargs):
    return UserFactory(role=roles.KNOWLEDGE_EDITOR, **kwargs)


def approver(**kwargs):
    return UserFactory(role=roles.KNOWLEDGE_APPROVER, **kwargs)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"product-{n}")
    name = factory.Sequence(lambda n: f"产品 {n}")


class FeatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feature
        django_get_or_create = ["product", "slug"]

    product = factory.SubFactory(ProductFactory)
    slug = factory.Sequence(lambda n: f"feature-{n}")
    name = factory.Sequence(lambda n: f"功能 {n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"分类 {n}")


class ScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScriptScenario
        django_get_or_create = ["slug"]

    slug = "refund"
    name = "退款"
    placeholders = ["customer_name", "order_id", "refund_days"]


def article_content(**overrides) -> ArticleContent:
    values = {
        "standard_question": "退款多久到账？",
        "similar_questions": ["退款什么时候到", "钱怎么还没退回来"],
        "answer": "退款审核通过后 **1–3 个工作日** 原路退回。",
        "channel_answers": {"wechat": "亲，退款 1–3 个工作日原路退回哦～"},
    }
    values.update(overrides)
    return ArticleContent(**values)


_article_seq = iter(range(1, 10**9))


def draft_article(
    *, product=None, by=None, features=(), external_id=None, compliance_sensitive=False, **content
) -> ArticleVersion:
    product = product or ProductFactory()
    for slug in features:
        FeatureFactory(product=product, slug=slug)
    return workflow.article_create(
        external_id=external_id or f"faq-{next(_article_seq)}",
        product=product,
        by=by,
        content=article_content(feature_slugs=list(features), **content),
        compliance_sensitive=compliance_sensitive,
    )


def published_article(**kwargs) -> ArticleVersion:
    version = draft_article(**kwargs)
    workflow.version_submit(version=version, by=None)
    return workflow.version_publish(version=version, by=None)


# A small knowledge base bots are tested against: two close refund questions (a vague question about refunds
# gets both as suggestions), an invoice one, and a diaper-size one far from both.
BOT_ARTICLES = {
    "refund": {
        "external_id": "mall-refund-001",
        "standard_question": "退款多久能到账？",
        "similar_questions": ["退款什么时候到账", "钱什么时候退回来", "申请退款后几天到账"],
        "answer": "审核通过后 1–3 个工作日原路退回。",
        "channel_answers": {"wechat": "亲，1–3 个工作日到账哦～"},
    },
    "refund_entry": {
        "external_id": "mall-refund-002",
        "standard_question": "在哪里申请退款？",
        "similar_questions": ["退款入口在哪", "怎么申请退款", "退款申请在哪里提交"],
        "answer": "在「我的 > 订单 > 申请售后」提交退款申请。",
        "channel_answers": {},
    },
    "invoice": {
        "external_id": "mall-invoice-001",
        "standard_question": "怎么开发票？",
        "similar_questions": ["发票在哪里申请", "可以开电子发票吗", "开票入口在哪"],
        "answer": "在「我的 > 订单 > 申请开票」提交抬头和税号。",
        "channel_answers": {},
    },
    "size": {
        "external_id": "mall-size-001",
        "standard_question": "纸尿裤尺码买错了可以换吗？",
        "similar_questions": ["纸尿裤换尺码", "尺码不合适能换货吗"],
        "answer": "未拆封的纸尿裤 7 天内可换尺码。",
        "channel_answers": {},
    },
}


def published_bot_articles(product, *names: str) -> dict[str, ArticleVersion]:
    """Publish the named ``BOT_ARTICLES`` for ``product`` and index them for bots."""
    from apps.answers.services.index import index_rebuild

    articles = {name: published_article(product=product, **BOT_ARTICLES[name]) for name in names}
    index_rebuild()
    return articles


def published_script(
    *, product=None, features=(), external_id=None, text="您好{customer_name}，退款已提交。", **content
) -> ScriptVersion:
    product = product or ProductFactory()
    for slug in features:
        FeatureFactory(product=product, slug=slug)
    version = workflow.script_create(
        external_id=external_id or f"script-{next(_article_seq)}",
        product=product,
        scenario=ScenarioFactory(),
        by=None,
        content=ScriptContent(title="退款安抚", text=text, feature_slugs=list(features), **content),
    )
    workflow.version_submit(version=version, by=None)
    return workflow.version_publish(version=version, by=None)


def answer_policy(*, answer: float | None = None, clarify: float | None = None, target: float = 0.97, product=None):
    """Decide by explicit thresholds (every channel of ``product``, or of every product), seen at once."""
    from apps.answers.models import AnswerPolicy
    from apps.answers.services.vocabulary import vocabulary_changed

    AnswerPolicy.objects.update_or_create(
        product=product,
        channel="",
        defaults={"answer_threshold": answer, "clarify_threshold": clarify, "target_precision": target},
    )
    vocabulary_changed()


# --- QA: conversations through ingestion, rules and scorecards through their services ----------------

DAY = datetime.fromisoformat("2026-11-02T00:00:00+08:00")  # a Monday


def conversations(count: int, *, agent: str = "agent-a", start: int = 0, day: datetime = DAY, **fields) -> list[int]:
    """``count`` conversations served by ``agent`` on ``day``; returns their ids."""
    items = []
    for n in range(start, start + count):
        t0 = day + timedelta(hours=9, minutes=n)
        items.append(
            {
                "channel": fields.get("channel", "wechat"),
                "external_id": f"{agent}-{day:%m%d}-{n}",
                "team": fields.get("team", "售后一组"),
                "customer": f"u-{agent}-{n}",
                **({"csat": fields["csat"]} if "csat" in fields else {}),
                "messages": fields.get("messages")
                or [
                    {"id": "m1", "role": "customer", "sender": f"u-{n}", "sent_at": t0.isoformat(), "text": "在吗"},
                    {
                        "id": "m2",
                        "role": "agent",
                        "sender": agent,
                        "sent_at": (t0 + timedelta(seconds=20)).isoformat(),
                        "text": fields.get("reply", "您好，请问有什么可以帮您"),
                    },
                    {
                        "id": "m3",
                        "role": "customer",
                        "sender": f"u-{n}",
                        "sent_at": (t0 + timedelta(seconds=60)).isoformat(),
                        "text": "好的谢谢",
                    },
                ],
            }
        )
    results = conversations_ingest(items, backfill=True)
    assert all(r.status in ("created", "updated") for r in results), [r.errors for r in results]
    return list(
        Conversation.objects.filter(external_id__in=[i["external_id"] for i in items]).values_list("id", flat=True)
    )


def forbidden_rule(**fields) -> Rule:
    lexicon, _ = Lexicon.objects.get_or_create(code="forbidden", defaults={"name": "服务禁语", "kind": "forbidden"})
    LexiconTerm.objects.get_or_create(lexicon=lexicon, term="不知道")
    LexiconTerm.objects.get_or_create(lexicon=lexicon, term="自己看")
    return Rule.objects.create(
        code=fields.pop("code", "forbidden-phrases"),
        name="服务禁语",
        severity=fields.pop("severity", "major"),
        condition={"type": "keywords", "lexicon": "forbidden", "role": "agent"},
        **fields,
    )


def greeting_rule() -> Rule:
    return Rule.objects.create(
        code="greeting",
        name="首次回复问候",
        severity="minor",
        condition={"type": "missing_phrase", "terms": ["您好", "你好"], "position": "first_agent_reply"},
    )


def published_scorecard(rules: list[Rule], *, manual: int = 1, name: str = "售后质检") -> ScorecardVersion:
    scorecard = Scorecard.objects.create(name=name)
    draft = scorecard_version_new_draft(scorecard)
    section = Section.objects.create(version=draft, title="服务规范")
    for n, rule in enumerate(rules):
        Criterion.objects.create(
            version=draft,
            section=section,
            title=rule.name,
            mode="automatic",
            points=50,
            rule=rule,
            position=n,
            severity=rule.severity,
        )
    for n in range(manual):
        Criterion.objects.create(version=draft, section=section, title=f"解决问题 {n}", mode="manual", points=20)
    return scorecard_version_publish(draft)


# --- Reviews: tasks scored, sampled and assigned as in production -----------------------------------


def setup_tasks(count: int = 1, *, reviewer=None, reply: str = "不知道，你自己看", messages=None):
    """``count`` conversations served by agent-a (whose user is returned), scored, sampled and assigned to
    ``reviewer``. Returns (tasks, agent_user, reviewer, version)."""
    ProductFactory(slug="mall-app")
    version = published_scorecard([forbidden_rule()])
    reviewer = reviewer or UserFactory(role=roles.QA_REVIEWER)
    agent_user = UserFactory(role=roles.AGENT)
    ids = conversations(count, agent="agent-a", reply=reply, **({"messages": messages} if messages else {}))
    Agent.objects.filter(code="agent-a").update(user=agent_user)
    conversations_score(ids)
    plan = SamplingPlan.objects.create(
        name=f"plan-{reviewer.pk}",
        scorecard=version.scorecard,
        rate_percent=100,
        max_per_agent=10_000,
        min_messages=1,
        new_agent_days=0,
        include_risky=False,
    )
    plan.reviewers.set([reviewer])
    sampling_run(plan, DAY)
    tasks = list(ReviewTask.objects.filter(conversation_id__in=ids).order_by("id"))
    return tasks, agent_user, reviewer, version


def lead_of(team_name: str = "售后一组"):
    lead = UserFactory(role=roles.QA_LEAD)
    Team.objects.get(name=team_name).leads.add(lead)
    return lead


def all_pass(version) -> dict[str, str]:
    return {str(c.id): "pass" for c in version.criteria.all()}
