"""Writes the audit trail's head, signed with the Ed25519 key kept outside the database."""

import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit import checkpoints
from audit.actions import do_record_checkpoint
from audit.app_settings import app_settings
from audit.chain import format_time


class Command(BaseCommand):
    help = (
        "Records a checkpoint entry, then writes the head of the audit trail (sequence, "
        "hash, time) signed with AUDIT_SIGNING_KEY. Keep the file off the platform."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--out", required=True, metavar="FILE", help="where to write; - for stdout"
        )
        parser.add_argument(
            "--key", metavar="PEM", help="the Ed25519 private key (default: AUDIT_SIGNING_KEY)"
        )

    def handle(self, *args, out, key, **options):
        key_path = key or app_settings.AUDIT_SIGNING_KEY
        if not key_path:
            raise CommandError("no signing key: pass --key or set AUDIT_SIGNING_KEY", returncode=2)
        try:
            private_key = checkpoints.load_private_key(key_path)
        except checkpoints.CheckpointError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        key_id = checkpoints.key_id(private_key.public_key())
        # The checkpoint covers its own entry: the trail says when and with which key.
        entry = do_record_checkpoint(actor=None, key_id=key_id)
        checkpoint = checkpoints.Checkpoint(
            seq=entry.seq,
            hash=entry.hash,
            entry_created=format_time(entry.created),
            signed_at=format_time(timezone.now()),
            key_id=key_id,
        )
        text = checkpoints.sign(checkpoint, private_key)
        if out == "-":
            sys.stdout.write(text)
            return
        _write_atomically(Path(out), text)
        self.stderr.write(f"audit_checkpoint: entry {entry.seq} ({entry.hash}) signed into {out}")


def _write_atomically(path: Path, text: str) -> None:
    """A reader never sees half a checkpoint: write beside it, then rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
