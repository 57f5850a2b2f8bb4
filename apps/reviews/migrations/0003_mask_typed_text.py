"""Mask personal data in review comments and notes and in dispute reasons and rulings written before the
workspace masked them (batches; running it again changes nothing)."""

from django.db import migrations

BATCH = 1000


def _masked_notes(notes, mask_text):
    return {key: mask_text(text) if isinstance(text, str) else text for key, text in (notes or {}).items()}


def mask_existing(apps, schema_editor):
    from apps.core.masking import mask_text

    Review = apps.get_model("reviews", "Review")
    Dispute = apps.get_model("reviews", "Dispute")
    for model, fields in (
        (Review, ("comment", "criterion_notes", "message_notes")),
        (Dispute, ("reason", "decision_note")),
    ):
        last = 0
        while True:
            batch = list(model.objects.filter(pk__gt=last).order_by("pk").only("pk", *fields)[:BATCH])
            if not batch:
                break
            changed = []
            for row in batch:
                dirty = False
                for field in fields:
                    value = getattr(row, field)
                    masked = _masked_notes(value, mask_text) if isinstance(value, dict) else mask_text(value or "")
                    if masked != (value or ("" if not isinstance(value, dict) else value)):
                        setattr(row, field, masked)
                        dirty = True
                if dirty:
                    changed.append(row)
            model.objects.bulk_update(changed, fields)
            last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("reviews", "0002_alter_calibrationsession_created_by_and_more")]
    operations = [migrations.RunPython(mask_existing, migrations.RunPython.noop)]
