"""Importing 10,000 FAQ articles: our set-based import vs the per-article service path (naive baseline).

Both run in the same process, one after the other, on the same database; the ratio is what counts.
"""

from __future__ import annotations

import io
import json
import random
import sys

from common import report, reset_knowledge, setup_django, timed

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
NAIVE_N = int(sys.argv[2]) if len(sys.argv) > 2 else 500

TOPICS = ["退款", "物流", "会员", "优惠券", "发票", "价保", "账号", "支付", "售后", "纸尿裤尺码"]


def rows(start: int, count: int, *, variant: str = "") -> str:
    rnd = random.Random(start)
    features = [f"feature-{i}" for i in range(20)]
    out = io.StringIO()
    for n in range(start, start + count):
        topic = rnd.choice(TOPICS)
        out.write(
            json.dumps(
                {
                    "external_id": f"bench-{n:06d}",
                    "product": "mall-app",
                    "category": f"{topic}问题",
                    "features": rnd.sample(features, 2),
                    "standard_question": f"{topic}相关问题第 {n} 条：多久能处理好？{variant}",
                    "similar_questions": [f"{topic}怎么还没好 {n}-{k}" for k in range(5)],
                    "answer": f"您好，关于**{topic}**：审核通过后 1–3 个工作日处理完成。{variant}\n\n- 路径：我的 > 订单 > 售后",
                    "channel_answers": {
                        "wechat": f"亲，{topic} 1–3 天处理好哦～ {n}",
                        "phone": f"{topic}一般一到三个工作日。",
                    },
                    "tags": [topic, "bench"],
                },
                ensure_ascii=False,
            )
            + "\n"
        )
    return out.getvalue()


def naive_import(text: str) -> int:
    """What a straightforward implementation does: one article at a time through the workflow services."""
    from apps.catalog.models import Feature, Product
    from apps.knowledge.models import Article
    from apps.knowledge.services import workflow
    from apps.knowledge.services.content import ArticleContent

    product = Product.objects.get(slug="mall-app")
    count = 0
    for line in text.splitlines():
        data = json.loads(line)
        for slug in data["features"]:
            Feature.objects.get_or_create(product=product, slug=slug, defaults={"name": slug})
        content = ArticleContent(
            standard_question=data["standard_question"],
            similar_questions=data["similar_questions"],
            answer=data["answer"],
            channel_answers=data["channel_answers"],
            tags=data["tags"],
            feature_slugs=data["features"],
        )
        article = Article.objects.filter(external_id=data["external_id"]).first()
        if article is None:
            version = workflow.article_create(
                external_id=data["external_id"], product=product, content=content, by=None
            )
        else:
            version = workflow.version_create(item=article, base_number=1, content=content, by=None)
        workflow.version_submit(version=version, by=None)
        workflow.version_publish(version=version, by=None)
        count += 1
    return count


def main() -> None:
    setup_django()
    from apps.knowledge.formats import read_jsonl
    from apps.knowledge.models import ArticleVersion
    from apps.knowledge.services.imports import articles_import

    reset_knowledge()
    text = rows(0, N)
    ours, result = timed(lambda: articles_import(read_jsonl(io.StringIO(text))))
    assert result.created == N, result.summary()
    again, result2 = timed(lambda: articles_import(read_jsonl(io.StringIO(text))))
    assert result2.unchanged == N, result2.summary()
    changed_text = rows(0, N, variant="（已更新）")
    changed, result3 = timed(lambda: articles_import(read_jsonl(io.StringIO(changed_text))))
    assert result3.updated == N, result3.summary()

    naive_text = rows(N, NAIVE_N)
    naive, count = timed(lambda: naive_import(naive_text))
    assert count == NAIVE_N
    assert ArticleVersion.objects.filter(status="published").count() == N + NAIVE_N

    ours_rate, naive_rate = N / ours, NAIVE_N / naive
    report(
        "import_articles",
        [
            f"new articles:        {N:>6} in {ours:6.2f} s  = {ours_rate:8.0f} articles/s  (set-based import)",
            f"re-import unchanged: {N:>6} in {again:6.2f} s  = {N / again:8.0f} articles/s",
            f"re-import changed:   {N:>6} in {changed:6.2f} s  = {N / changed:8.0f} articles/s  (new version each)",
            f"naive per-article:   {NAIVE_N:>6} in {naive:6.2f} s  = {naive_rate:8.0f} articles/s  (services, one by one)",
            f"ratio: set-based import is {ours_rate / naive_rate:.1f}x the naive path",
        ],
        {
            "n": N,
            "seconds": ours,
            "reimport_unchanged_seconds": again,
            "reimport_changed_seconds": changed,
            "naive_n": NAIVE_N,
            "naive_seconds": naive,
            "ratio": ours_rate / naive_rate,
        },
    )


if __name__ == "__main__":
    main()
