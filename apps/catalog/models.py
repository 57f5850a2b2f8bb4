from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.versions import validate_version


class Product(models.Model):
    slug = models.SlugField(
        _("slug"), max_length=60, unique=True, help_text=_("Used by imports and APIs, e.g. mall-app.")
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Feature(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="features", verbose_name=_("product"))
    slug = models.SlugField(_("slug"), max_length=60, help_text=_("Unique within the product, e.g. refund."))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("feature")
        verbose_name_plural = _("features")
        ordering = ["product__name", "name"]
        constraints = [models.UniqueConstraint(fields=["product", "slug"], name="feature_slug_unique_per_product")]

    def __str__(self) -> str:
        return f"{self.product.name} · {self.name}"


class ReleaseSource(models.TextChoices):
    ADMIN = "admin", _("Admin")
    API = "api", _("API")
    IMPORT = "import", _("Import")


class Release(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="releases", verbose_name=_("product"))
    version = models.CharField(_("version"), max_length=40, validators=[validate_version])
    # Sortable form of ``version`` (see apps.core.versions.version_key): 5.10.0 sorts after 5.9.0.
    version_key = ArrayField(models.PositiveIntegerField(), editable=False, verbose_name=_("version key"))
    released_at = models.DateTimeField(_("released at"), default=timezone.now)
    notes = models.TextField(_("release notes"), blank=True)
    changed_features = models.ManyToManyField(
        Feature, blank=True, related_name="releases", verbose_name=_("changed features")
    )
    source = models.CharField(
        _("recorded via"), max_length=10, choices=ReleaseSource.choices, default=ReleaseSource.ADMIN
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["product__name", "-version_key"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="release_version_unique_per_product")
        ]
        indexes = [models.Index(fields=["product", "version_key"], name="release_product_version_idx")]

    def __str__(self) -> str:
        return f"{self.product.name} {self.version}"
