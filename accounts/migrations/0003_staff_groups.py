"""Creates the groups Moderators, Compliance and Administrators with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.staff import sync_staff_groups


def create_staff_groups(apps, schema_editor):
    # Permissions are normally created after all migrations have run: create
    # them now so that the groups get them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_staff_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_staff_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Moderators", "Compliance", "Administrators"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_records_attestation_documents"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_staff_groups, remove_staff_groups)]
