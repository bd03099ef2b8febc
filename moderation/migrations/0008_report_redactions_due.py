from django.db import migrations, models


def note_purged_quotes(apps, schema_editor):
    """Snapshots that still quote a purged text (kept whole by a hold before this
    field existed): noted, so the purge redacts them once no hold covers them."""
    Report = apps.get_model("moderation", "Report")
    Message = apps.get_model("rooms", "Message")
    for report in Report.objects.exclude(context=[]).iterator():
        quoted = {
            entry["id"]
            for entry in report.context
            if isinstance(entry, dict) and isinstance(entry.get("id"), int) and entry.get("body")
        }
        if not quoted:
            continue
        purged = Message.objects.filter(pk__in=quoted, deleted_at__isnull=False, body="")
        due = sorted(purged.values_list("pk", flat=True))
        if due:
            report.redactions_due = due
            report.save(update_fields=["redactions_due"])


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0007_child_safety_signals_and_art18_notifications"),
        ("rooms", "0005_content_operations"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="redactions_due",
            field=models.JSONField(
                blank=True, default=list, verbose_name="textes effacés à retirer du contexte"
            ),
        ),
        migrations.RunPython(note_purged_quotes, migrations.RunPython.noop),
    ]
