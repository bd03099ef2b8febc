"""The database refuses UPDATE and DELETE on the audit trail (audit/guards.py)."""

from django.db import migrations

from audit import guards


def install_guards(apps, schema_editor):
    guards.install(schema_editor.connection, guards.V1)


def remove_guards(apps, schema_editor):
    guards.remove(schema_editor.connection, guards.V1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install_guards, remove_guards)]
