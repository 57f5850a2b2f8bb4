from django.db import migrations


def sync_roles(apps, schema_editor):
    from apps.accounts.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    """QA reviewers see scores, findings and queues; QA leads manage lexicons, rules, scorecards and plans."""

    dependencies = [("accounts", "0003_conversations_permissions"), ("qa", "0001_initial")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
