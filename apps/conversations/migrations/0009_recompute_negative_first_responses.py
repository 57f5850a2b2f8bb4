"""Conversations where an agent spoke before the customer (phone calls) got a negative human first
response; the metrics now start from the customer. Recompute those, and touch them so the insights
rollups rebuild their days."""

from django.db import migrations
from django.utils import timezone


def recompute(apps, schema_editor):
    from apps.conversations.services.metrics import recompute_metrics

    Conversation = apps.get_model("conversations", "Conversation")
    ids = list(Conversation.objects.filter(human_first_response_seconds__lt=0).values_list("id", flat=True))
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        recompute_metrics(batch)
        Conversation.objects.filter(id__in=batch).update(updated_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("conversations", "0008_updated_brin")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
