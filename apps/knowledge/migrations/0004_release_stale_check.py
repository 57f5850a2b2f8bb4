# The stale check's bookkeeping moves from catalog's Release.stale_check_done_at to knowledge.
# Runs before catalog drops the column, and copies it, so no release is checked twice after the upgrade.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def copy_done_checks(apps, schema_editor):
    Release = apps.get_model("catalog", "Release")
    ReleaseStaleCheck = apps.get_model("knowledge", "ReleaseStaleCheck")
    ReleaseStaleCheck.objects.bulk_create(
        [
            ReleaseStaleCheck(release_id=pk, done_at=done_at)
            for pk, done_at in Release.objects.filter(stale_check_done_at__isnull=False).values_list(
                "pk", "stale_check_done_at"
            )
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


def copy_back(apps, schema_editor):
    Release = apps.get_model("catalog", "Release")
    ReleaseStaleCheck = apps.get_model("knowledge", "ReleaseStaleCheck")
    for check in ReleaseStaleCheck.objects.all():
        Release.objects.filter(pk=check.release_id).update(stale_check_done_at=check.done_at)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("knowledge", "0003_min_product_version_key"),
    ]
    run_before = [("catalog", "0002_stale_check_moves_to_knowledge")]

    operations = [
        migrations.CreateModel(
            name="ReleaseStaleCheck",
            fields=[
                (
                    "release",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="stale_check",
                        serialize=False,
                        to="catalog.release",
                        verbose_name="release",
                    ),
                ),
                ("done_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="stale check done at")),
            ],
            options={"verbose_name": "stale check", "verbose_name_plural": "stale checks"},
        ),
        migrations.RunPython(copy_done_checks, copy_back),
    ]
