from django.db import migrations


def sync_roles(apps, schema_editor):
    from apps.accounts.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    """QA reviewers read conversations; QA leads also manage teams, agents and SLA tiers."""

    dependencies = [("accounts", "0002_answers_permissions"), ("conversations", "0003_business_seconds")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
