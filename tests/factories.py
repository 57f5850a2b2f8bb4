"""Factories for tests: real rows, made through the same services the product uses where it matters."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.accounts import roles
from apps.catalog.models import Feature, Product
from apps.knowledge.models import ArticleVersion, Category, ScriptScenario, ScriptVersion
from apps.knowledge.services import workflow
from apps.knowledge.services.content import ArticleContent, ScriptContent


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
