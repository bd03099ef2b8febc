"""Backup rotation: the database backups `make backup` writes (scripts/backup.py) are
deleted once their retention period (`backups`) is over, unless a legal hold needs
them (docs/operations.md, "Backups and the restore drill")."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from audit.events import AuditEvent
from audit.trail import record
from compliance.actions.common import _check_permission
from compliance.app_settings import app_settings
from compliance.models import LegalHold
from compliance.retention import retention_policy

REASON = "retention period ended"
# scripts/backup.py's names: the dump, its manifest beside it, and the file a dump
# that died left behind. The UTC time of the snapshot is in the name.
BACKUP_NAME = re.compile(
    r"chatsite-(?P<database>.+)-(?P<stamp>\d{8}T\d{6}Z)\.dump(?P<suffix>\.json|\.partial)?"
)
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Backup:
    """One backup: its dump (or a dead dump's partial file) and its manifest."""

    name: str
    made_at: datetime
    files: tuple[Path, ...]


@dataclass
class BackupRotation:
    dry_run: bool
    now: datetime
    directory: Path
    deleted: list[str] = field(default_factory=list)
    kept_for_holds: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def backups_in(directory: Path) -> list[Backup]:
    """The backups in `directory`, oldest first. Files not named as scripts/backup.py
    names them are never touched: this deletes nothing it did not make."""
    found: dict[str, list[Path]] = {}
    stamps: dict[str, datetime] = {}
    if not directory.is_dir():
        return []
    for path in directory.iterdir():
        match = BACKUP_NAME.fullmatch(path.name)
        if match is None or not path.is_file():
            continue
        try:
            made_at = datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            continue
        name = path.name.removesuffix(match["suffix"] or "")
        found.setdefault(name, []).append(path)
        stamps[name] = made_at
    return sorted(
        (Backup(name, stamps[name], tuple(sorted(paths))) for name, paths in found.items()),
        key=lambda backup: (backup.made_at, backup.name),
    )


def held_since(now: datetime) -> datetime | None:
    """When the most recent legal hold still active was placed, or None.

    A backup made before an active hold was placed may hold what that hold
    covers and the live database had already purged: it is kept until the hold
    is released or its term (a preservation order's) ends. A backup made after it
    needs no such care: the purge keeps everything the hold covers in the live
    database.
    """
    latest = LegalHold.objects.active(now).order_by("-placed_at").first()
    return latest.placed_at if latest is not None else None


def do_rotate_backups(
    *, actor, directory: Path | None = None, dry_run: bool = False, now: datetime | None = None
) -> BackupRotation:
    """Deletes the backups older than the `backups` period, those an active legal hold
    needs excepted (`held_since`). One audit entry per run, dry runs included:
    `BACKUPS_ROTATED` with the files deleted and those kept for a hold (names only,
    which carry no personal data). The files go last, inside the transaction, as
    requisition packages do: a failed run leaves its entry unwritten and the files
    it could not delete for the next run."""
    _check_permission(actor, "compliance.delete_restrictedrecord")
    now = now or timezone.now()
    directory = Path(directory or app_settings.COMPLIANCE_BACKUP_DIR)
    policy = retention_policy()
    rotation = BackupRotation(dry_run=dry_run, now=now, directory=directory)
    with transaction.atomic(durable=True):
        # The holds are read under the audit chain's lock order: the entry goes last.
        hold_start = held_since(now)
        doomed: list[Path] = []
        for backup in backups_in(directory):
            if backup.made_at >= now - policy.backups:
                rotation.kept.append(backup.name)
            elif hold_start is not None and backup.made_at < hold_start:
                rotation.kept_for_holds.append(backup.name)
            else:
                rotation.deleted.append(backup.name)
                doomed.extend(backup.files)
        record(
            AuditEvent.BACKUPS_ROTATED,
            actor=actor,
            reason=REASON,
            details={
                "dry_run": dry_run,
                "now": now.isoformat(),
                "directory": str(directory),
                "period_days": policy.backups.days,
                "deleted": rotation.deleted,
                "kept_for_holds": rotation.kept_for_holds,
                "kept": len(rotation.kept),
                "held_since": hold_start.isoformat() if hold_start else None,
            },
        )
        if not dry_run:
            for path in doomed:
                path.unlink(missing_ok=True)
    return rotation
