# The stale check bookkeeping now lives in knowledge (ReleaseStaleCheck), which copied it first.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0001_initial'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='release',
            name='stale_check_done_at',
        ),
    ]
