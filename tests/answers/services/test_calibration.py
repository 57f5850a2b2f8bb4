"""Calibrating bot decisions from the knowledge base itself: refits, the thresholds they give, and the job."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.utils import timezone

from apps.answers.models import AnswerPolicy, ConfidenceFit, QuestionEntry
from apps.answers.services import calibration
from apps.answers.services.calibration import (
    CALIBRATION_GENERATION_KEY,
    DEFAULT_TARGET_PRECISION,
    Thresholds,
    answer_threshold,
    confidence_refit,
    content_fingerprint,
    thresholds_for,
)
from apps.answers.services.decisions import decision_settings
from apps.answers.services.index import entry_texts, index_rebuild
from apps.answers.services.vocabulary import vocabulary_changed, vocabulary_generation
from apps.answers.tasks import refit_confidence_task
from apps.answers.verifier import builtin_fit
from apps.core.generations import generation
from apps.knowledge.services import workflow
from tests.conftest import _wait_until_idle, running_worker, wait_for
from tests.factories import ProductFactory, article_content, published_article

pytestmark = pytest.mark.django_db

# A small knowledge base over two products: six articles, six similar questions each.
MALL_FAQ = {
    "mall-refund": (
        "退款多久能到账？",
        ["退款什么时候到账", "钱什么时候退回来", "申请退款后几天到账", "退款一直没到账怎么办", "退款原路返回要多久"],
        "审核通过后 1–3 个工作日原路退回。",
    ),
    "mall-invoice": (
        "怎么开发票？",
        ["发票在哪里申请", "可以开电子发票吗", "开票入口在哪", "怎么开增值税专用发票", "下单后还能补开发票吗"],
        "在「我的 > 订单 > 申请开票」提交抬头和税号。",
    ),
    "mall-size": (
        "纸尿裤尺码买错了可以换吗？",
        ["纸尿裤换尺码", "尺码不合适能换货吗", "买大了一号能换小号吗", "没拆封的纸尿裤可以换吗", "怎么申请换尺码"],
        "未拆封的纸尿裤 7 天内可换尺码，运费由我们承担。",
    ),
    "mall-shipping": (
        "下单后多久发货？",
        ["什么时候发货", "订单一直没发货", "几天能发出", "发货太慢了怎么办", "今天下单明天能发吗"],
        "现货商品 48 小时内发货，预售商品以页面时间为准。",
    ),
}
SCALE_FAQ = {
    "scale-pairing": (
        "体脂秤怎么连接蓝牙？",
        ["秤连不上手机", "蓝牙配对失败", "怎么绑定体脂秤", "体脂秤搜不到设备", "换手机后怎么重新连接"],
        "打开 App 的「设备 > 添加设备」，站上秤面即可自动配对。",
    ),
    "scale-battery": (
        "体脂秤怎么换电池？",
        ["秤没电了怎么办", "电池型号是什么", "屏幕不亮是没电了吗", "电池仓在哪里打开", "多久需要换一次电池"],
        "翻转秤体，推开电池仓盖，换上 4 节 AAA 电池。",
    ),
}
EXTRA_SIMILAR = {  # a sixth similar question each
    "mall-refund": "退货退款多久能收到钱",
    "mall-invoice": "发票抬头填错了怎么办",
    "mall-size": "换尺码运费谁出",
    "mall-shipping": "预售商品什么时候发货",
    "scale-pairing": "App 找不到秤",
    "scale-battery": "换电池后数据会丢吗",
}
SIMILAR_QUESTIONS = 6 * 6
MALL_SIMILAR_QUESTIONS = 4 * 6


def publish_knowledge() -> dict:
    mall = ProductFactory(slug="mall-app", name="母婴商城 App")
    scale = ProductFactory(slug="smart-scale", name="智能体脂秤")
    versions = {}
    for product, faq in ((mall, MALL_FAQ), (scale, SCALE_FAQ)):
        for external_id, (question, similar, answer) in faq.items():
            versions[external_id] = published_article(
                product=product,
                external_id=external_id,
                standard_question=question,
                similar_questions=[*similar, EXTRA_SIMILAR[external_id]],
                answer=answer,
                channel_answers={},
            )
    return {"mall": mall, "scale": scale, "versions": versions}


@pytest.fixture
def knowledge():
    published = publish_knowledge()
    index_rebuild()
    return published


def set_policy(*, target: float = DEFAULT_TARGET_PRECISION, answer=None, clarify=None, product=None) -> None:
    """What an editor saves in the admin: the policy, then every process rebuilds its settings."""
    AnswerPolicy.objects.update_or_create(
        product=product,
        channel="",
        defaults={"target_precision": target, "answer_threshold": answer, "clarify_threshold": clarify},
    )
    vocabulary_changed()


def current_settings():
    return decision_settings(vocabulary_generation(), generation(CALIBRATION_GENERATION_KEY))


def earlier_fit(*, product=None, fingerprint: str = "0" * 64, curve=None, clarify=None) -> ConfidenceFit:
    """A fit an earlier refit wrote (by default the model shipped with the portal stands in for it)."""
    model, builtin_curve, builtin_clarify = builtin_fit()
    return ConfidenceFit.objects.create(
        created_at=timezone.now() - timedelta(days=1),
        product=product,
        fingerprint=fingerprint,
        examples=3000,
        pairs=14000,
        positives=2800,
        model=model.as_dict(),
        curve=builtin_curve if curve is None else curve,
        clarify_threshold=builtin_clarify if clarify is None else clarify,
        expected_precision=0.97,
        expected_answer_rate=0.6,
        seconds=35.0,
    )


def ask(client, **body) -> dict:
    response = client.post("/api/v1/answers/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


# --- a refit -------------------------------------------------------------------------------------------


def test_a_refit_fits_the_knowledge_base_from_its_own_questions(knowledge, django_capture_on_commit_callbacks):
    # Exact nearest neighbours for both refits: this test's rows are uncommitted, so an ANALYZE by another
    # session (autovacuum) can switch the plan to the approximate HNSW index between them, and the second
    # fit would see other candidates. What is checked here is the refit, not the index's recall.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
    calibration_generation = generation(CALIBRATION_GENERATION_KEY)

    with django_capture_on_commit_callbacks(execute=True):
        fits = confidence_refit()

    [fit] = fits  # the whole knowledge base only: no product has MIN_PRODUCT_QUESTIONS of its own
    assert list(ConfidenceFit.objects.all()) == [fit]
    assert fit.product_id is None
    assert fit.fingerprint == content_fingerprint()
    assert fit.examples > SIMILAR_QUESTIONS  # each similar question, plus uncovered topics and chit-chat
    assert fit.pairs > fit.positives > 0
    assert fit.outcomes == 0
    confidences = [confidence for confidence, _precision, _share in fit.curve]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 <= precision <= 1 and 0 < share <= 1 for _confidence, precision, share in fit.curve)
    assert fit.curve[-1][2] == pytest.approx(1.0)  # at the lowest confidence every question is answered
    assert 0 <= fit.clarify_threshold <= answer_threshold(fit.curve, DEFAULT_TARGET_PRECISION) <= 1
    assert 0 <= fit.expected_precision <= 1 and 0 <= fit.expected_answer_rate <= 1
    # Every process picks the new fit up on its next question.
    assert generation(CALIBRATION_GENERATION_KEY) != calibration_generation
    assert current_settings().fit_for(None).curve == fit.curve

    # Over unchanged content a refit does nothing, and tells no process anything.
    with django_capture_on_commit_callbacks() as callbacks:
        assert confidence_refit() == []
    assert callbacks == []
    assert ConfidenceFit.objects.count() == 1

    # Forced, it fits again; the examples are sampled deterministically, so the fit is the same.
    [forced] = confidence_refit(force=True)
    assert forced.pk != fit.pk and ConfidenceFit.objects.count() == 2
    assert (forced.fingerprint, forced.examples) == (fit.fingerprint, fit.examples)
    # The same curve, up to float noise: embeddings may come back from the cache as float32 the second time.
    assert [point for row in forced.curve for point in row] == pytest.approx(
        [point for row in fit.curve for point in row], abs=1e-3
    )


def test_publishing_a_new_version_changes_the_fingerprint_so_the_next_refit_fits_again(knowledge):
    first = earlier_fit(fingerprint=content_fingerprint())  # fitted on the content as it is now
    assert confidence_refit() == []
    refund = knowledge["versions"]["mall-refund"]
    question, similar, answer = MALL_FAQ["mall-refund"]
    draft = workflow.version_create(
        item=refund.article,
        base_number=refund.number,
        content=article_content(
            standard_question=question,
            similar_questions=[*similar, EXTRA_SIMILAR["mall-refund"], "退款到账时间"],
            answer=answer,
            channel_answers={},
        ),
        by=None,
    )
    workflow.version_submit(version=draft, by=None)
    workflow.version_publish(version=draft, by=None)
    # What counts is what bots see: until the new version is indexed, nothing changed for them.
    assert content_fingerprint() == first.fingerprint

    index_rebuild()

    assert content_fingerprint() != first.fingerprint
    [second] = confidence_refit()
    assert second.fingerprint == content_fingerprint()
    assert ConfidenceFit.objects.filter(product=None).first() == second


def test_a_product_with_enough_similar_questions_gets_a_fit_of_its_own(knowledge, monkeypatch):
    mall, scale = knowledge["mall"], knowledge["scale"]
    monkeypatch.setattr(calibration, "MIN_PRODUCT_QUESTIONS", MALL_SIMILAR_QUESTIONS)  # the scale has 12

    fits = {fit.product_id: fit for fit in confidence_refit()}

    assert set(fits) == {None, mall.pk}
    whole, own = fits[None], fits[mall.pk]
    assert own.fingerprint == whole.fingerprint
    assert MALL_SIMILAR_QUESTIONS < own.examples < whole.examples
    assert own.positives > 0
    # Bots asking about the mall use its own fit; the scale, without enough questions, the whole one.
    decisions = current_settings()
    assert decisions.fit_for(mall.pk).curve == own.curve
    assert decisions.fit_for(scale.pk).curve == whole.curve
    assert decisions.fit_for(None).curve == whole.curve


def test_a_product_without_a_fit_in_the_latest_refit_uses_the_whole_fit(knowledge):
    mall = knowledge["mall"]
    earlier_fit(product=mall)  # from when the mall still had enough similar questions of its own

    [whole] = confidence_refit()

    assert current_settings().fit_for(mall.pk).curve == whole.curve


@pytest.mark.django_db(transaction=True)
def test_two_refits_at_once_write_one_set_of_fits():
    publish_knowledge()
    index_rebuild()
    results: dict[str, object] = {}

    def first_refit() -> None:
        try:
            results["first"] = confidence_refit()
        except Exception as exc:  # noqa: BLE001 - re-raised by the test below
            results["first"] = exc
        finally:
            connection.close()

    # A third session locks the fits table, so the first refit, once it holds the calibration lock,
    # waits to read or write its fit: the two refits overlap for as long as the test needs.
    blocker = connections.create_connection("default")
    try:
        with blocker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE answers_confidencefit IN ACCESS EXCLUSIVE MODE")
            thread = threading.Thread(target=first_refit)
            thread.start()
            wait_for(calibration_lock_held, timeout=60)

            results["second"] = confidence_refit()

            cursor.execute("COMMIT")
        thread.join(timeout=120)
    finally:
        blocker.close()

    assert results["second"] is None
    assert not isinstance(results["first"], Exception), results["first"]
    assert [fit.product_id for fit in results["first"]] == [None]
    assert ConfidenceFit.objects.count() == 1


def calibration_lock_held() -> bool:
    # A bigint advisory key shows in pg_locks with its low 32 bits as objid.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND objid::bigint = hashtext('answers.calibration')::bigint & 4294967295)"
        )
        return cursor.fetchone()[0]


def test_a_customers_choice_is_a_labelled_example_for_the_next_refit(knowledge, api_key_client):
    set_policy(answer=1.0, clarify=0.0)  # every question gets suggestions
    bot = api_key_client("answers")
    body = ask(bot, question="退款的事情", product="mall-app")
    assert body["decision"] == "clarify"

    chosen = bot.post(
        f"/api/v1/answers/{body['query_id']}/choose/",
        {"article_id": body["suggestions"][0]["article_id"]},
        format="json",
    )
    assert chosen.status_code == 200

    [fit] = confidence_refit()
    assert fit.outcomes == 1
    assert fit.fingerprint == content_fingerprint()


# --- thresholds ----------------------------------------------------------------------------------------

CURVE = [  # [confidence, precision of answers at or above it, share answered], from high to low
    [0.99, 1.0, 0.1],
    [0.95, 0.99, 0.2],
    [0.9, 0.98, 0.4],
    [0.8, 0.97, 0.6],
    [0.6, 0.9, 0.8],
    [0.3, 0.8, 1.0],
]


@pytest.mark.parametrize(
    ("target", "threshold"), [(0.97, 0.8), (0.98, 0.9), (0.99, 0.95), (0.9, 0.6), (0.8, 0.3), (0.5, 0.3)]
)
def test_the_answer_threshold_is_the_lowest_confidence_that_keeps_the_target(target, threshold):
    assert answer_threshold(CURVE, target) == threshold


def test_a_target_the_curve_never_reaches_means_no_direct_answers():
    assert answer_threshold([[0.9, 0.95, 0.3], [0.5, 0.9, 1.0]], 0.97) == 1.0
    assert answer_threshold([], 0.97) == 1.0


def test_a_few_wrong_answers_at_the_very_top_do_not_end_the_walk():
    noisy_top = [[0.999, 0.0, 0.01], [0.99, 0.5, 0.02], *CURVE]
    assert answer_threshold(noisy_top, 0.97) == 0.8


def test_the_suggestion_threshold_never_exceeds_the_answer_threshold():
    assert thresholds_for(CURVE, 0.9, target=0.97, answer_override=None, clarify_override=None) == Thresholds(
        answer=0.8, clarify=0.8
    )
    assert thresholds_for(CURVE, 0.5, target=0.97, answer_override=None, clarify_override=None) == Thresholds(
        answer=0.8, clarify=0.5
    )
    assert thresholds_for(CURVE, 0.5, target=0.97, answer_override=0.4, clarify_override=0.7) == Thresholds(
        answer=0.4, clarify=0.4
    )


def test_the_answer_threshold_follows_the_target_precision_unless_set_explicitly():
    earlier_fit(curve=CURVE, clarify=0.5)
    thresholds = {}
    for target in (0.9, 0.95, 0.97, 0.99):
        set_policy(target=target)
        thresholds[target] = current_settings().thresholds(None, "wechat")

    # Read off the latest fit's curve: a higher target never lowers the threshold.
    assert {target: t.answer for target, t in thresholds.items()} == {0.9: 0.6, 0.95: 0.8, 0.97: 0.8, 0.99: 0.95}
    assert {target: t.clarify for target, t in thresholds.items()} == {0.9: 0.5, 0.95: 0.5, 0.97: 0.5, 0.99: 0.5}

    set_policy(target=0.99, answer=0.42)
    assert current_settings().thresholds(None, "wechat") == Thresholds(answer=0.42, clarify=0.42)
    set_policy(target=0.99, answer=0.42, clarify=0.2)
    assert current_settings().thresholds(None, "wechat") == Thresholds(answer=0.42, clarify=0.2)


# --- the admin -----------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-123"))
    return client


def test_a_superuser_can_add_an_answer_policy(superuser_client):
    assert superuser_client.get("/admin/answers/answerpolicy/add/").status_code == 200


def test_a_superuser_can_list_the_confidence_fits_and_the_policies_with_their_thresholds(superuser_client):
    earlier_fit()
    set_policy(target=0.95)

    assert superuser_client.get("/admin/answers/confidencefit/").status_code == 200
    assert superuser_client.get("/admin/answers/answerpolicy/").status_code == 200


# --- the job, through the real worker ------------------------------------------------------------------


@pytest.fixture(scope="module")
def _celery_worker_process(django_db_setup, django_db_blocker):
    """The real worker (as in tests/conftest.py), refitting a second after indexing: the default delay of
    a minute would outlast the test."""
    yield from running_worker(django_db_blocker, name="refit", extra_env={"ANSWER_REFIT_DELAY_SECONDS": "1"})


def wait_until_nothing_is_left_to_run() -> None:
    """Like conftest's wait for an idle worker, counting tasks still waiting for their countdown too:
    a debounced refit must not run into what the test does next."""
    from kbportal.celery import app

    def quiet() -> bool:
        inspector = app.control.inspect(timeout=0.5)
        return not any(
            any((getattr(inspector, state)() or {}).values()) for state in ("active", "reserved", "scheduled")
        )

    wait_for(lambda: quiet() and quiet(), timeout=60)
    _wait_until_idle()


@pytest.mark.django_db(transaction=True)
def test_the_worker_refits_after_indexing_and_the_job_queued_twice_fits_once(celery_worker, api_key_client):
    published = publish_knowledge()
    # Every version's questions, its answer as a passage and the answer's sentences.
    entries = sum(
        len(
            entry_texts(
                standard_question=v.standard_question,
                similar_questions=[q.text for q in v.similar_questions.all()],
                answer=v.answer,
            )
        )
        for v in published["versions"].values()
    )
    wait_for(lambda: QuestionEntry.objects.count() == entries, timeout=90)
    # Indexing finished, so the worker refits: bots follow the new content without anyone asking.
    wait_for(lambda: ConfidenceFit.objects.filter(product=None, fingerprint=content_fingerprint()).exists(), timeout=90)
    wait_until_nothing_is_left_to_run()

    # A customer's feedback is new material for the next refit; the job is then queued twice.
    bot = api_key_client("answers")
    query_id = ask(bot, question="退款多久到账")["query_id"]
    assert bot.post(f"/api/v1/answers/{query_id}/feedback/", {"helpful": True}, format="json").status_code == 204
    results = [refit_confidence_task.delay(), refit_confidence_task.delay()]

    assert sorted(result.get(timeout=90) for result in results) == [0, 1]
    assert ConfidenceFit.objects.filter(product=None, fingerprint=content_fingerprint()).count() == 1


def test_an_approver_can_ask_for_a_refit_before_any_fit_exists_and_an_editor_cannot(client):
    from tests.factories import approver, editor

    client.force_login(approver())
    page = client.get("/admin/answers/confidencefit/")
    assert page.status_code == 200 and "/admin/answers/confidencefit/refit/" in page.content.decode()
    response = client.post("/admin/answers/confidencefit/refit/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/answers/confidencefit/"
    assert "A refit was queued" in response.content.decode()

    client.force_login(editor())
    page = client.get("/admin/answers/confidencefit/")
    assert page.status_code == 200 and "/admin/answers/confidencefit/refit/" not in page.content.decode()
    assert client.post("/admin/answers/confidencefit/refit/").status_code == 403
