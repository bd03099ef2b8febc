"""python manage.py purge_expired [--dry-run] [--batch-size N] [--verbose]: applies the
retention policy, in batches of its own transaction each (docs/compliance.md)."""

from django.core.management.base import BaseCommand, CommandError

from compliance.actions import PURGE_BATCH, PURGE_STEPS, do_purge_expired

BAR_WIDTH = 30
STEP_LABELS = {
    "account_deletions": "account deletions completed",
    "connection_records": "connection records purged",
    "attestation_challenges": "age attestation challenges purged",
    "expired_identity_documents": "unreviewed identity documents expired (files deleted)",
    "deleted_message_texts": "deleted message texts purged",
    "report_snapshots": "report snapshots redacted of texts purged while held",
    "content_operation_records": "content operation records purged",
    "content_operations": "content operations (who posted, edited, deleted, from where) purged",
    "presence_intervals": "presence intervals (who had which room open, when) purged",
    "room_moderator_actions": "room moderators' measures purged",
    "threat_escalations": "threat escalations to the authorities purged",
    "appeals": "decided appeals purged",
    "misuse_measures": "lapsed Art. 23 misuse measures purged",
    "statements_of_reasons": "statements of reasons purged",
    "sanctions": "ended sanctions purged",
    "reports": "closed reports (with their context snapshots) purged",
    "notices": "public notices purged",
    "safety_signals": "safety signals purged",
    "held_messages": "decided held messages purged",
    "moderator_notes": "moderators' notes past their period purged",
    "requisition_packages": "answered requisitions' export packages deleted",
    "reserved_pseudonyms": "closed accounts' pseudonym reservations ended",
    "restricted_records": "restricted records purged",
}


class Command(BaseCommand):
    help = (
        "Applies the retention policy (docs/compliance.md): completes pending account "
        "deletions and purges what has expired; nothing under a legal hold is purged. "
        "Each batch is its own transaction: an interrupted run is finished by the next."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be purged, change nothing"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=PURGE_BATCH,
            help=f"rows per transaction (default {PURGE_BATCH})",
        )
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="show the progress even when standard error is not a terminal",
        )

    def _progress(self, step: str, done: int, total: int) -> None:
        filled = BAR_WIDTH if not total else BAR_WIDTH * done // total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        # On a terminal the bar is redrawn in place; in a log, one line per batch.
        end = "\n" if done >= total or not self.stderr.isatty() else ""
        self.stderr.write(f"\r{step:<26} [{bar}] {done}/{total}", ending=end)
        self.stderr.flush()

    def handle(self, *args, dry_run=False, batch_size=PURGE_BATCH, verbose=False, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        show_progress = options["verbosity"] >= 1 and (verbose or self.stderr.isatty())
        summary = do_purge_expired(
            actor=None,
            dry_run=dry_run,
            batch_size=batch_size,
            progress=self._progress if show_progress else None,
        )
        mode = "dry run: what would be done, nothing changed" if dry_run else "applied"
        self.stdout.write(f"retention purge at {summary.now.isoformat()} ({mode})")
        for step in PURGE_STEPS:
            self.stdout.write(f"  {STEP_LABELS[step]}: {summary.counts[step]}")
        self.stdout.write(f"  audit trail erasures: {summary.audit_erasures}")
        if not dry_run:
            self.stdout.write(f"  batches (one transaction each): {summary.batches}")
        self.stdout.write(
            f"  under legal hold, kept: {summary.held_accounts} account(s), "
            f"{summary.held_rooms} room(s)"
        )
