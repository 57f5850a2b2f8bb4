"""Writing knowledge: create and edit versions, review, publish, roll back, archive and verify.

Articles and scripts follow the same workflow (draft → in review → published → superseded/archived),
so every function here works on either kind. Permissions are checked here, not in the admin, so
the rules hold for every entry point. ``by=None`` means a trusted system caller (a management
command run by an operator, or a task).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.models import Product
from apps.catalog.services import features_by_slug
from apps.core.errors import Conflict, PermissionRefused, ValidationFailed
from apps.core.markdown import render_markdown
from apps.knowledge.models import (
    Article,
    ArticleVersion,
    Category,
    ChannelAnswer,
    Script,
    ScriptScenario,
    ScriptVersion,
    SimilarQuestion,
    StaleFlag,
    VersionStatus,
)
from apps.knowledge.services.content import ArticleContent, ScriptContent
from apps.knowledge.services.diff import FieldDiff, content_diff
from apps.knowledge.services.publication import published_knowledge_changed

Item = Article | Script
Version = ArticleVersion | ScriptVersion
Content = ArticleContent | ScriptContent


@dataclass(frozen=True)
class _Kind:
    item_field: str  # "article" or "script": the FK on versions and stale flags
    version_model: type[ArticleVersion] | type[ScriptVersion]
    add_permission: str


_ARTICLE = _Kind("article", ArticleVersion, "knowledge.add_articleversion")
_SCRIPT = _Kind("script", ScriptVersion, "knowledge.add_scriptversion")


def _kind(item: Item | type[Item]) -> _Kind:
    """What differs between articles and scripts, for an item or either model."""
    return _ARTICLE if item is Article or isinstance(item, Article) else _SCRIPT


def _require(by, permission: str, message: str) -> None:
    if by is not None and not by.has_perm(permission):
        raise PermissionRefused(message)


def _lock(item: Item) -> Item:
    """Lock the item's row for the rest of the transaction: edits and publishes of one item queue up."""
    return type(item).objects.select_for_update().get(pk=item.pk)


def content_of(version: Version) -> Content:
    if isinstance(version, ArticleVersion):
        return ArticleContent.of_version(version)
    return ScriptContent.of_version(version)


def _validate(item: Item, content: Content) -> None:
    content.normalise()
    errors = content.errors() if isinstance(content, ArticleContent) else content.errors_for(item.scenario)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, field_errors=errors)


def new_version(
    *,
    item: Item,
    content: Content,
    number: int,
    based_on: int | None,
    change_note: str,
    by,
    status: str = VersionStatus.DRAFT,
    now: datetime | None = None,
) -> Version:
    """An unsaved version of ``item`` saying ``content``: the one place where what content says maps onto a
    version's columns, for the editor, rollbacks and imports alike. Born published when ``status`` says so."""
    now = now or timezone.now()
    published = status == VersionStatus.PUBLISHED
    common: dict[str, Any] = {
        "number": number,
        "based_on_number": based_on,
        "status": status,
        "change_note": change_note[:200],
        "tags": content.tags,
        "min_product_version": content.min_product_version,
        "max_product_version": content.max_product_version,
        "min_product_version_key": content.min_key(),
        "max_product_version_key": content.max_key(),
        "valid_from": content.valid_from,
        "valid_until": content.valid_until,
        "content_hash": content.content_hash(),
        "author": by,
        "created_at": now,
        "published_at": now if published else None,
        "published_by": by if published else None,
    }
    if isinstance(content, ArticleContent):
        return ArticleVersion(
            article=item,
            standard_question=content.standard_question,
            answer=content.answer,
            answer_html=render_markdown(content.answer),
            language=content.language,
            **common,
        )
    return ScriptVersion(script=item, title=content.title, text=content.text, channels=content.channels, **common)


def similar_question_rows(content: ArticleContent) -> list[tuple[str, int]]:
    """An article version's similar questions as ``(text, position)``, in the order the content lists them.
    Plain tuples: an import streams hundreds of thousands of them into COPY."""
    return [(text, position) for position, text in enumerate(content.similar_questions)]


def channel_answer_rows(content: ArticleContent) -> list[tuple[str, str, str]]:
    """An article version's answers per channel as ``(channel, answer, answer_html)``, rendered from Markdown."""
    return [(channel, text, render_markdown(text)) for channel, text in content.channel_answers.items()]


def _write_version(*, item: Item, number: int, based_on: int | None, content: Content, by, change_note: str) -> Version:
    """Insert one draft version with everything it holds. Callers hold the item lock inside a transaction."""
    features = features_by_slug(product=item.product, slugs=content.feature_slugs)
    version = new_version(item=item, content=content, number=number, based_on=based_on, change_note=change_note, by=by)
    version.save(force_insert=True)
    if isinstance(content, ArticleContent):
        SimilarQuestion.objects.bulk_create(
            SimilarQuestion(version=version, text=text, position=position)
            for text, position in similar_question_rows(content)
        )
        ChannelAnswer.objects.bulk_create(
            ChannelAnswer(version=version, channel=channel, answer=answer, answer_html=html)
            for channel, answer, html in channel_answer_rows(content)
        )
    version.features.set(features)
    return version


def _supersede_pending(item: Item, *, below: int) -> None:
    kind = _kind(item)
    kind.version_model.objects.filter(
        **{kind.item_field: item}, number__lt=below, status__in=[VersionStatus.DRAFT, VersionStatus.IN_REVIEW]
    ).update(status=VersionStatus.SUPERSEDED)


# --- Creating ------------------------------------------------------------------------------------


def _create(item: Item, content: Content, *, by, verification_interval_days: int | None) -> Version:
    """Save a new item and its first version (a draft). Caller is atomic."""
    if type(item).objects.filter(external_id=item.external_id).exists():
        raise ValidationFailed(
            _("“%(id)s” is already in use.") % {"id": item.external_id},
            field_errors={"external_id": [_("Already in use.")]},
        )
    item.owner = item.owner or by
    item.verifier = item.verifier or item.owner
    if verification_interval_days:
        item.verification_interval_days = verification_interval_days
    item.full_clean()
    item.save()
    _validate(item, content)
    return _write_version(item=item, number=1, based_on=None, content=content, by=by, change_note="")


@transaction.atomic
def article_create(
    *,
    external_id: str,
    product: Product,
    content: ArticleContent,
    by,
    category: Category | None = None,
    owner=None,
    verifier=None,
    compliance_sensitive: bool = False,
    verification_interval_days: int | None = None,
) -> ArticleVersion:
    """A new article with its first version, as a draft."""
    _require(by, "knowledge.add_article", _("You do not have permission to create articles."))
    article = Article(
        external_id=external_id,
        product=product,
        category=category,
        owner=owner,
        verifier=verifier,
        compliance_sensitive=compliance_sensitive,
    )
    return _create(article, content, by=by, verification_interval_days=verification_interval_days)


@transaction.atomic
def script_create(
    *,
    external_id: str,
    product: Product,
    scenario: ScriptScenario,
    content: ScriptContent,
    by,
    owner=None,
    verifier=None,
    compliance_sensitive: bool = False,
    verification_interval_days: int | None = None,
) -> ScriptVersion:
    """A new script with its first version, as a draft."""
    _require(by, "knowledge.add_script", _("You do not have permission to create scripts."))
    script = Script(
        external_id=external_id,
        product=product,
        scenario=scenario,
        owner=owner,
        verifier=verifier,
        compliance_sensitive=compliance_sensitive,
    )
    return _create(script, content, by=by, verification_interval_days=verification_interval_days)


class EditConflict(Conflict):
    """Someone saved a newer version since the editor opened theirs. ``changes``: base → latest."""

    def __init__(self, message: str, *, latest: Version, changes: list[FieldDiff]) -> None:
        super().__init__(
            message,
            latest_version=latest.number,
            changes=[{"field": d.field, "yours_based_on": d.old, "now": d.new} for d in changes],
        )
        self.latest = latest
        self.changes = changes


@transaction.atomic
def version_create(*, item: Item, base_number: int, content: Content, by, change_note: str = "") -> Version:
    """Save an edit as a new version on top of ``base_number``.

    If someone saved another version after ``base_number``, nothing is written and ``EditConflict``
    carries what they changed, so the editor can merge by hand instead of overwriting it.
    """
    kind = _kind(item)
    _require(by, kind.add_permission, _("You do not have permission to edit this content."))
    item = _lock(item)
    versions = kind.version_model.objects.filter(**{kind.item_field: item})
    latest = versions.order_by("-number").first()
    if latest is None and base_number == 0:  # an item created in the admin gets its first version
        _validate(item, content)
        return _write_version(item=item, number=1, based_on=None, content=content, by=by, change_note=change_note)
    base = versions.filter(number=base_number).first()
    if base is None:
        raise ValidationFailed(
            _("Version %(n)s does not exist.") % {"n": base_number},
            field_errors={"base_version": [_("Unknown version.")]},
        )
    _validate(item, content)
    if latest.number != base_number:
        author = latest.author.get_username() if latest.author else _("an import")
        raise EditConflict(
            _(
                "Not saved: version %(latest)s was saved by %(author)s at %(at)s while you were editing version "
                "%(base)s. Review what changed below, then apply your edits to version %(latest)s."
            )
            % {
                "latest": latest.number,
                "author": author,
                "at": timezone.localtime(latest.created_at).strftime("%Y-%m-%d %H:%M"),
                "base": base_number,
            },
            latest=latest,
            changes=[d for d in content_diff(content_of(base), content_of(latest)) if d.changed],
        )
    if content.content_hash() == latest.content_hash:
        raise ValidationFailed(_("Nothing changed: the content is the same as version %(n)s.") % {"n": latest.number})
    version = _write_version(
        item=item, number=latest.number + 1, based_on=base_number, content=content, by=by, change_note=change_note
    )
    _supersede_pending(item, below=version.number)
    return version


# --- Workflow ------------------------------------------------------------------------------------


def _reload_locked(version: Version) -> Version:
    model = type(version)
    _lock(version.item)
    return model.objects.select_related(_kind(version.item).item_field).get(pk=version.pk)


@transaction.atomic
def version_submit(*, version: Version, by) -> Version:
    """Draft → in review."""
    kind = _kind(version.item)
    _require(by, kind.add_permission, _("You do not have permission to submit this content."))
    version = _reload_locked(version)
    if version.status != VersionStatus.DRAFT:
        raise ValidationFailed(
            _("Only drafts can be submitted for review; version %(n)s is %(status)s.")
            % {"n": version.number, "status": version.get_status_display()}
        )
    version.status = VersionStatus.IN_REVIEW
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_at"])
    return version


def _check_approver(version: Version, by) -> None:
    _require(by, "knowledge.publish_content", _("Publishing needs the knowledge approver role."))
    if by is not None and version.item.compliance_sensitive and version.author_id == by.pk:
        raise PermissionRefused(
            _("This content is compliance-sensitive: another approver must approve your own version.")
        )


def _publish(version: Version, by, *, now=None) -> Version:
    """Make ``version`` the published one. Caller holds the item lock."""
    now = now or timezone.now()
    item = version.item
    kind = _kind(item)
    kind.version_model.objects.filter(**{kind.item_field: item}, status=VersionStatus.PUBLISHED).update(
        status=VersionStatus.SUPERSEDED
    )
    version.status = VersionStatus.PUBLISHED
    version.published_at = now
    version.published_by = by
    version.save(update_fields=["status", "published_at", "published_by"])
    _supersede_pending(item, below=version.number)
    after_publishing(model=type(item), item_ids=[item.pk], by=by, now=now)
    return version


def after_publishing(*, model: type[Article] | type[Script], item_ids: Collection[int], by, now: datetime) -> None:
    """What publishing changes besides the versions, for any number of items of one kind (the editor
    publishes one, an import thousands): their open stale flags are answered ("republished"), their
    verification interval restarts, and the portal hears that published knowledge changed."""
    _clear_flags(model, item_ids, by=by, because="republished", now=now)
    published_knowledge_changed()


@transaction.atomic
def version_publish(*, version: Version, by, comment: str = "") -> Version:
    """In review → published; the previously published version is superseded and stale flags clear."""
    version = _reload_locked(version)
    _check_approver(version, by)
    if version.status != VersionStatus.IN_REVIEW:
        raise ValidationFailed(
            _("Only versions in review can be published; version %(n)s is %(status)s.")
            % {"n": version.number, "status": version.get_status_display()}
        )
    version.review_comment = comment[:500]
    version.save(update_fields=["review_comment"])
    return _publish(version, by)


@transaction.atomic
def version_reject(*, version: Version, by, comment: str) -> Version:
    """In review → back to draft, with the reviewer's reason."""
    version = _reload_locked(version)
    _require(by, "knowledge.publish_content", _("Reviewing needs the knowledge approver role."))
    if version.status != VersionStatus.IN_REVIEW:
        raise ValidationFailed(_("Only versions in review can be sent back."))
    if not comment.strip():
        raise ValidationFailed(_("Say why the version is sent back."), field_errors={"comment": [_("Required.")]})
    version.status = VersionStatus.DRAFT
    version.review_comment = comment.strip()[:500]
    version.save(update_fields=["status", "review_comment"])
    return version


@transaction.atomic
def item_rollback(*, item: Item, to_number: int, by) -> Version:
    """Republish an earlier version's content as a new version (history is never rewritten)."""
    kind = _kind(item)
    _require(by, "knowledge.publish_content", _("Rolling back needs the knowledge approver role."))
    item = _lock(item)
    versions = kind.version_model.objects.filter(**{kind.item_field: item})
    target = versions.filter(number=to_number).first()
    if target is None:
        raise ValidationFailed(_("Version %(n)s does not exist.") % {"n": to_number})
    latest = versions.order_by("-number").first()
    content = content_of(target)
    _validate(item, content)
    version = _write_version(
        item=item,
        number=latest.number + 1,
        based_on=latest.number,
        content=content,
        by=by,
        change_note=_("Rollback to version %(n)s") % {"n": to_number},
    )
    return _publish(version, by)


@transaction.atomic
def item_archive(*, item: Item, by) -> Version:
    """Take the published version offline; the item keeps its history."""
    kind = _kind(item)
    _require(by, "knowledge.archive_content", _("Archiving needs the knowledge approver role."))
    item = _lock(item)
    published = kind.version_model.objects.filter(**{kind.item_field: item}, status=VersionStatus.PUBLISHED).first()
    if published is None:
        raise ValidationFailed(_("%(item)s has no published version to archive.") % {"item": item.external_id})
    published.status = VersionStatus.ARCHIVED
    published.save(update_fields=["status"])
    published_knowledge_changed()
    return published


@transaction.atomic
def item_verify(*, item: Item, by) -> Item:
    """Confirm the item is still correct: clears its stale flags and restarts its verification interval."""
    _require(by, "knowledge.verify_content", _("You do not have permission to verify content."))
    item = _lock(item)
    _clear_flags(type(item), [item.pk], by=by, because="verified", now=timezone.now())
    item.refresh_from_db()
    return item


def _clear_flags(
    model: type[Article] | type[Script], item_ids: Collection[int], *, by, because: str, now: datetime
) -> None:
    """Answer the items' open stale flags and restart their verification interval."""
    StaleFlag.objects.filter(**{f"{_kind(model).item_field}_id__in": item_ids}, cleared_at__isnull=True).update(
        cleared_at=now, cleared_by=by, cleared_because=because
    )
    model.objects.filter(pk__in=item_ids).update(needs_verification=False, last_verified_at=now)
