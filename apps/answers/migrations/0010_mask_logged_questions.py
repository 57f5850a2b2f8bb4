"""Mask personal data in bot questions and feedback logged before the log masked them (batches of 2,000;
running it again changes nothing: masked text has nothing left to mask)."""

from django.db import migrations

BATCH = 2000
FIELDS = ("question", "normalized", "feedback_comment")


def mask_existing(apps, schema_editor):
    from apps.core.masking import mask_text

    AnswerQuery = apps.get_model("answers", "AnswerQuery")
    last = None
    while True:
        rows = AnswerQuery.objects.order_by("pk")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(rows.only("pk", *FIELDS)[:BATCH])
        if not batch:
            return
        changed = []
        for row in batch:
            before = [getattr(row, f) for f in FIELDS]
            for field in FIELDS:
                setattr(row, field, mask_text(getattr(row, field)))
            if before != [getattr(row, f) for f in FIELDS]:
                changed.append(row)
        AnswerQuery.objects.bulk_update(changed, FIELDS)
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("answers", "0009_alter_answerquery_api_key")]
    operations = [migrations.RunPython(mask_existing, migrations.RunPython.noop)]
