from django.db import migrations


def create_roles(apps, schema_editor):
    from apps.accounts.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    """The six roles as groups, each with exactly the permissions listed in apps/accounts/roles.py."""

    initial = True
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("apikeys", "0001_initial"),
        ("catalog", "0001_initial"),
        ("knowledge", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
