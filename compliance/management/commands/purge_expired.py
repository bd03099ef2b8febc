"""python manage.py purge_expired [--dry-run]: applies the retention policy."""

import sys

from django.core.management.base import BaseCommand

from compliance.actions import PURGE_STEPS, do_purge_expired

BAR_WIDTH = 30
STEP_LABELS = {
    "account_deletions": "account deletions completed",
    "connection_records": "connection records purged",
    "attestation_challenges": "age attestation challenges purged",
    "expired_identity_documents": "unreviewed identity documents expired (files deleted)",
    "deleted_message_texts": "deleted message texts purged",
    "content_operation_records": "content operation records purged",
    "restricted_records": "restricted records purged",
}


class Command(BaseCommand):
    help = (
        "Applies the retention policy (docs/compliance.md): completes pending account "
        "deletions and purges what has expired; nothing under a legal hold is purged."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be purged, change nothing"
        )

    def _progress(self, step: str, done: int, total: int) -> None:
        if self.verbosity < 1:
            return
        filled = BAR_WIDTH if not total else BAR_WIDTH * done // total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        end = "\n" if done >= total else ""
        self.stderr.write(f"\r{step:<26} [{bar}] {done}/{total}", ending=end)
        sys.stderr.flush()

    def handle(self, *args, dry_run=False, verbosity=1, **options):
        self.verbosity = verbosity
        summary = do_purge_expired(actor=None, dry_run=dry_run, progress=self._progress)
        mode = "dry run: what would be done, nothing changed" if dry_run else "applied"
        self.stdout.write(f"retention purge at {summary.now.isoformat()} ({mode})")
        for step in PURGE_STEPS:
            self.stdout.write(f"  {STEP_LABELS[step]}: {summary.counts[step]}")
        self.stdout.write(f"  audit trail erasures: {summary.audit_erasures}")
        self.stdout.write(
            f"  under legal hold, kept: {summary.held_accounts} account(s), "
            f"{summary.held_rooms} room(s)"
        )
