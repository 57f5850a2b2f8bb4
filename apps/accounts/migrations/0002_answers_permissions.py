from django.db import migrations


def sync_roles(apps, schema_editor):
    from apps.accounts.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    """Give the roles their permissions on the bot-answers models."""

    dependencies = [("accounts", "0001_roles"), ("answers", "0003_token_stats_and_answer_passages")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
