"""python manage.py rotate_backups [--dir DIR] [--dry-run]: deletes the database backups
older than the retention policy's `backups` period, those a legal hold needs excepted
(docs/operations.md, "Backups and the restore drill")."""

from pathlib import Path

from django.core.management.base import BaseCommand

from compliance.actions import do_rotate_backups
from compliance.app_settings import app_settings


class Command(BaseCommand):
    help = (
        "Deletes the database backups (scripts/backup.py) older than the retention "
        "policy's backups period; a backup made before an active legal hold was placed "
        "is kept until the hold is released. Audited (BACKUPS_ROTATED)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            type=Path,
            default=None,
            help="the backups' folder (default: BACKUP_DIR, else $CHATSITE_VAR_DIR/backups)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be deleted, delete nothing"
        )

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        directory = options["dir"] or app_settings.COMPLIANCE_BACKUP_DIR
        rotation = do_rotate_backups(actor=None, directory=directory, dry_run=dry_run)
        mode = "dry run: nothing deleted" if dry_run else "applied"
        self.stdout.write(f"backup rotation in {rotation.directory} ({mode})")
        verb = "would delete" if dry_run else "deleted"
        for name in rotation.deleted:
            self.stdout.write(f"  {verb}: {name}")
        for name in rotation.kept_for_holds:
            self.stdout.write(f"  kept for a legal hold: {name}")
        self.stdout.write(
            f"  {len(rotation.deleted)} {verb}, {len(rotation.kept_for_holds)} kept for a "
            f"legal hold, {len(rotation.kept)} within the period"
        )
