from django.db import migrations


def sync_roles(apps, schema_editor):
    from apps.accounts.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    """QA reviewers and leads read reviews, disputes and calibration sessions in the admin."""

    dependencies = [("accounts", "0004_qa_permissions"), ("reviews", "0001_initial")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
