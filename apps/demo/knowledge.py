"""The demo knowledge (demo/*.json*): products, releases, articles, scripts and synonyms in realistic
Simplified Chinese for two products.

Loaded through the same services as real data, so loading twice changes nothing. Older releases are
recorded before the content exists; each product's latest release is recorded after it, so the
demo opens with stale flags to work through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.dateparse import parse_datetime

from apps.answers.services.vocabulary import synonym_save
from apps.catalog.models import Feature, Product, ReleaseSource
from apps.catalog.services import release_record
from apps.demo.files import DEMO_DIR, read_json
from apps.knowledge.formats import read_jsonl
from apps.knowledge.models import Article, Script, ScriptScenario
from apps.knowledge.services import workflow
from apps.knowledge.services.content import ScriptContent
from apps.knowledge.services.imports import articles_import
from apps.knowledge.services.stale import release_flag_stale_content


@dataclass
class DemoSummary:
    """What loading the demo knowledge did: the article import's summary and what it created."""

    articles: str
    scripts_created: int
    releases_created: int
    stale_flags: int


def _release(product: Product, data: dict) -> tuple[bool, int]:
    recorded = release_record(
        product=product,
        version=data["version"],
        changed_feature_slugs=data["changed_features"],
        released_at=parse_datetime(data["released_at"]),
        notes=data.get("notes", ""),
        source=ReleaseSource.IMPORT,
        announce=False,
    )
    if not recorded.created:  # loaded before: its check ran then
        return False, 0
    # Run the check in-process: the demo must look right before any worker starts.
    flagged = release_flag_stale_content(release_id=recorded.release.pk)
    return True, flagged.articles_flagged + flagged.scripts_flagged


@transaction.atomic
def load_demo_knowledge(directory: Path = DEMO_DIR) -> DemoSummary:
    """Load (or bring up to date) the demo products, releases, articles, scripts and synonyms."""
    products_data = read_json("products.json", directory)
    products: dict[str, Product] = {}
    for data in products_data:
        product, _ = Product.objects.update_or_create(
            slug=data["slug"], defaults={"name": data["name"], "description": data.get("description", "")}
        )
        products[product.slug] = product
        for feature in data["features"]:
            Feature.objects.update_or_create(product=product, slug=feature["slug"], defaults={"name": feature["name"]})

    releases_created = flags = 0
    latest_releases = []
    for data in products_data:
        releases = sorted(data["releases"], key=lambda r: r["released_at"])
        for release in releases[:-1]:
            created, flagged = _release(products[data["slug"]], release)
            releases_created += created
            flags += flagged
        latest_releases.append((products[data["slug"]], releases[-1]))

    owner = get_user_model().objects.filter(username="editor").first()
    with open(directory / "articles.jsonl", encoding="utf-8") as stream:
        report = articles_import(read_jsonl(stream), publish=True)
    if owner:
        Article.objects.filter(owner__isnull=True).update(owner=owner, verifier=owner)

    for data in read_json("script_scenarios.json", directory):
        ScriptScenario.objects.update_or_create(
            slug=data["slug"],
            defaults={
                "name": data["name"],
                "description": data.get("description", ""),
                "placeholders": data["placeholders"],
            },
        )
    scripts_created = 0
    with open(directory / "scripts.jsonl", encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                scripts_created += _script(json.loads(line), products, owner)

    _work_in_progress(owner, directory)
    _synonyms(directory)
    for product, release in latest_releases:
        created, flagged = _release(product, release)
        releases_created += created
        flags += flagged
    return DemoSummary(
        articles=report.summary(), scripts_created=scripts_created, releases_created=releases_created, stale_flags=flags
    )


def _script(data: dict, products: dict[str, Product], owner) -> int:
    if Script.objects.filter(external_id=data["external_id"]).exists():
        return 0
    content = ScriptContent(
        title=data["title"],
        text=data["text"],
        channels=data.get("channels", []),
        feature_slugs=data.get("features", []),
        tags=data.get("tags", []),
    )
    version = workflow.script_create(
        external_id=data["external_id"],
        product=products[data["product"]],
        scenario=ScriptScenario.objects.get(slug=data["scenario"]),
        content=content,
        by=None,
        owner=owner,
        verifier=owner,
    )
    workflow.version_submit(version=version, by=None)
    workflow.version_publish(version=version, by=None)
    return 1


def _work_in_progress(owner, directory: Path) -> None:
    """Edits in flight (demo/work_in_progress.json), so the review queue, version history and diff have
    something to show."""
    for data in read_json("work_in_progress.json", directory):
        article = Article.objects.filter(external_id=data["article"]).first()
        if article is None or article.versions.count() != 1:  # missing, or done on an earlier load
            continue
        base = article.versions.get()
        content = workflow.content_of(base)
        content.answer += data["addition"]
        version = workflow.version_create(
            item=article, base_number=base.number, content=content, by=owner, change_note=data["change_note"]
        )
        if data["status"] == "in_review":
            workflow.version_submit(version=version, by=owner)


def _synonyms(directory: Path) -> None:
    for data in read_json("synonyms.json", directory):
        synonym_save(canonical=data["canonical"], variants=data["variants"])
