from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.models import Feature, Product, Release, ReleaseSource
from apps.catalog.signals import release_recorded
from apps.core.errors import Conflict, PermissionRefused, ValidationFailed
from apps.core.versions import version_key


@dataclass(frozen=True)
class RecordedRelease:
    release: Release
    created: bool


def product_by_slug(slug: str) -> Product:
    product = Product.objects.filter(slug=slug).first()
    if product is None:
        raise ValidationFailed(
            _("Unknown product “%(slug)s”.") % {"slug": slug}, field_errors={"product": [_("Unknown product.")]}
        )
    return product


def features_by_slug(*, product: Product, slugs: list[str], field: str = "features") -> list[Feature]:
    """The product's features by slug; unknown slugs are an error on ``field`` naming them."""
    features = list(Feature.objects.filter(product=product, slug__in=slugs))
    missing = sorted(set(slugs) - {f.slug for f in features})
    if missing:
        raise ValidationFailed(
            _("Unknown features for %(product)s: %(missing)s.")
            % {"product": product.slug, "missing": ", ".join(missing)},
            field_errors={field: [_("Unknown feature(s): %(m)s.") % {"m": ", ".join(missing)}]},
        )
    return features


def release_record(
    *,
    product: Product,
    version: str,
    changed_feature_slugs: list[str],
    released_at: datetime | None = None,
    notes: str = "",
    by=None,
    source: str = ReleaseSource.ADMIN,
    announce: bool = True,
) -> RecordedRelease:
    """Record a release and, once committed, announce it (``release_recorded``): knowledge then flags the
    content it made stale. ``announce=False`` records history without follow-up work (imports, tests).

    Recording the same version again with the same changed features returns the existing release, so a
    CI/CD pipeline may retry; a different list for an existing version is a conflict.
    """
    if by is not None and not by.has_perm("catalog.add_release"):
        raise PermissionRefused(_("Recording releases needs the knowledge approver role."))
    key = version_key(version)  # raises a ValidationError naming the bad version
    slugs = sorted(set(changed_feature_slugs))
    features = features_by_slug(product=product, slugs=slugs, field="changed_features")
    existing = Release.objects.filter(product=product, version=version).first()
    if existing is not None:
        again = _same_release_again(existing, slugs)
        if announce:  # a retry: listeners redo what the first try's lost follow-up did not do
            release_announce(release=existing, again=True)
        return again
    try:
        with transaction.atomic():
            release = Release.objects.create(
                product=product,
                version=version.strip(),
                version_key=key,
                released_at=released_at or timezone.now(),
                notes=notes,
                source=source,
                recorded_by=by,
            )
            release.changed_features.set(features)
    except IntegrityError:  # a concurrent request recorded it first
        return _same_release_again(Release.objects.get(product=product, version=version), slugs)
    if announce:
        release_announce(release=release)
    return RecordedRelease(release=release, created=True)


def _same_release_again(existing: Release, slugs: list[str]) -> RecordedRelease:
    recorded = sorted(existing.changed_features.values_list("slug", flat=True))
    if recorded != slugs:
        raise Conflict(
            _("Release %(version)s of %(product)s is already recorded with changed features: %(features)s.")
            % {"version": existing.version, "product": existing.product.slug, "features": ", ".join(recorded) or "-"}
        )
    return RecordedRelease(release=existing, created=False)


def release_save(*, release: Release, by) -> Release:
    """Save a release edited in a form (the admin): derive its sortable version key, note who recorded a
    new one. Changed features are saved by the form; ``release_announce`` follows once they are."""
    if not by.has_perm("catalog.change_release" if release.pk else "catalog.add_release"):
        raise PermissionRefused(_("You may not record or edit releases."))
    release.version_key = version_key(release.version)  # raises a ValidationError naming the bad version
    if release.pk is None:
        release.recorded_by = by
    release.save()
    return release


def release_announce(*, release: Release, by=None, again: bool = False) -> None:
    """Send ``release_recorded`` once the current transaction commits (listeners' workers must see the
    release and its features). ``by``: who asks (``None``: the system), checked whatever the door."""
    if by is not None and not (by.has_perm("catalog.change_release") or by.has_perm("catalog.add_release")):
        raise PermissionRefused(_("You may not run the follow-up work of a release."))
    transaction.on_commit(
        lambda: release_recorded.send_robust(sender=Release, release=release, again=again), robust=True
    )
