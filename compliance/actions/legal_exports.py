"""A requisition's data package: a zip with a manifest of every file's SHA-256,
moved into place only once the export commits."""

import csv
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.refusals import records_staff_refusals
from audit.trail import record
from compliance import queries
from compliance.actions.common import (
    EXPORT_PERMISSION,
    _audit_request,
    _check_permission,
    _locked,
    _require_production,
    _require_status,
)
from compliance.models import (
    DataCategory,
    LegalBasis,
    LegalRequest,
    LegalRequestStatus,
)
from core.refusals import RefusalCode, Refused

MANIFEST_NAME = "manifest.json"


PACKAGE_FORMAT = "chatsite-legal-export/1"


@dataclass(frozen=True)
class ExportedPackage:
    path: Path
    sha256: str
    files: dict[str, str]  # name -> SHA-256


def _csv_bytes(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    columns = ["account_id", "username", "kind", "ip_address", "port", "time", "source"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _presence_csv_bytes(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    columns = ["room", "account_id", "pseudonym_then", "from", "to"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _json_bytes(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


CATEGORY_FILES = {
    DataCategory.IDENTITY: "identity.json",
    DataCategory.CONNECTIONS: "connections.csv",
    DataCategory.MESSAGES: "messages.json",
    DataCategory.MODERATION: "moderation.json",
}


PRESENCE_FILE = "presence.csv"


def _package_files(request: LegalRequest, *, actor, now: datetime) -> dict[str, bytes]:
    files = {
        "request.json": _json_bytes(
            {
                "reference": request.reference,
                "kind": request.kind,
                "emergency": request.emergency,
                "authority": request.authority,
                "legal_basis": request.legal_basis,
                "legal_basis_label": str(LegalBasis(request.legal_basis).label),
                "legal_basis_detail": request.legal_basis_detail,
                "received_at": request.received_at.isoformat(),
                "deadline": request.deadline.isoformat(),
                "period_start": request.period_start.isoformat(),
                "period_end": request.period_end.isoformat(),
                "accounts": list(request.accounts.order_by("id").values_list("id", flat=True)),
                "rooms": list(request.rooms.order_by("id").values_list("slug", flat=True)),
                "data_categories": request.data_categories,
                # How each pseudonym the authority named was resolved: who held
                # it during the period, and whether several accounts did.
                "named_subjects": [
                    {
                        "named": subject.named,
                        "account_id": subject.user_id,
                        "held_name": subject.held_name,
                        "held_from": subject.held_from.isoformat(),
                        "held_to": subject.held_to.isoformat() if subject.held_to else None,
                        "source": subject.source,
                        "several_accounts_matched": subject.ambiguous,
                    }
                    for subject in request.subjects.all()
                ],
            }
        )
    }
    for category in request.data_categories:
        rows = queries.CATEGORY_ROWS[category](request)
        name = CATEGORY_FILES[category]
        files[name] = _csv_bytes(rows) if name.endswith(".csv") else _json_bytes(rows)
    if DataCategory.MESSAGES in request.data_categories and request.rooms.exists():
        # Who had the named rooms open during the period: who could have seen
        # the messages (docs/compliance.md 5, "Presence in a named room").
        files[PRESENCE_FILE] = _presence_csv_bytes(queries.presence_rows(request))
    manifest = {
        "format": PACKAGE_FORMAT,
        "reference": request.reference,
        "generated_at": now.isoformat(),
        "generated_by": actor.pk if actor is not None else None,
        "approved_by": sorted(request.approvals.values_list("officer_id", flat=True)),
        "files": [
            {"name": name, "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
            for name, content in sorted(files.items())
        ],
    }
    files[MANIFEST_NAME] = _json_bytes(manifest)
    return files


def _write_zip(files: dict[str, bytes], directory: Path) -> tuple[Path, str]:
    """Writes the zip to a temporary file in `directory`; returns it and its SHA-256."""
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".export-", suffix=".zip.part")
    os.close(handle)
    temporary = Path(temporary)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as package:
            for name, content in files.items():
                package.writestr(name, content)
        os.chmod(temporary, 0o600)
        digest = hashlib.sha256(temporary.read_bytes()).hexdigest()
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary, digest


@records_staff_refusals
@transaction.atomic(durable=True)
def do_export_legal_request(request: LegalRequest, *, actor, out_dir) -> ExportedPackage:
    """Produces the requisition's zip in `out_dir`, after a second officer's approval.

    The package's SHA-256 goes into the audit trail: what was handed over can be
    proven later, byte for byte.
    """
    _check_permission(actor, EXPORT_PERMISSION)
    request = _locked(request)
    _require_status(request, (LegalRequestStatus.VERIFIED, LegalRequestStatus.EXPORTED))
    _require_production(request)
    approvals = request.approvals.exclude(officer_id=request.assigned_officer_id)
    if actor is not None:
        approvals = approvals.exclude(officer_id=actor.pk)
    if not approvals.exists():
        raise Refused(
            RefusalCode.APPROVAL_REQUIRED,
            _(
                "L'export doit d'abord être approuvé par un second agent de conformité "
                "(ni l'agent chargé, ni celui qui exporte)."
            ),
        )
    directory = Path(out_dir)
    if not directory.is_dir():
        raise Refused(
            RefusalCode.INVALID, _("Le dossier %(dir)s n'existe pas.") % {"dir": directory}
        )
    now = timezone.now()
    files = _package_files(request, actor=actor, now=now)
    name = f"requisition-{slugify(request.reference) or request.pk}-{now:%Y%m%dT%H%M%SZ}.zip"
    final_path = directory / name
    temporary, digest = _write_zip(files, directory)
    try:
        request.status = LegalRequestStatus.EXPORTED
        request.exported_at = now
        request.package_name = name
        request.package_sha256 = digest
        # A production order takes effect with its first package.
        request.taken_effect_at = request.taken_effect_at or now
        request.save(
            update_fields=[
                "status",
                "exported_at",
                "package_name",
                "package_sha256",
                "taken_effect_at",
            ]
        )
        _audit_request(
            AuditEvent.LEGAL_REQUEST_EXPORTED,
            request,
            actor=actor,
            details={
                "package": name,
                "sha256": digest,
                "files": {
                    entry["name"]: entry["sha256"]
                    for entry in json.loads(files[MANIFEST_NAME])["files"]
                },
                "approved_by": sorted(approvals.values_list("officer_id", flat=True)),
            },
        )
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    # Only a committed export has its package under its final name.
    transaction.on_commit(lambda: os.replace(temporary, final_path))
    return ExportedPackage(
        path=final_path,
        sha256=digest,
        files={
            name: hashlib.sha256(content).hexdigest()
            for name, content in files.items()
            if name != MANIFEST_NAME
        },
    )


PACKAGE_TIME = re.compile(r"\d{8}T\d{6}Z\.zip")


def package_files(request: LegalRequest, directory: Path) -> list[Path]:
    """Every package of the request in `directory`: a re-export writes a new one."""
    stem = f"requisition-{slugify(request.reference) or request.pk}-"
    return sorted(
        path
        for path in directory.glob(f"{stem}*.zip")
        # Only the export time may follow: a longer reference is another request's.
        if PACKAGE_TIME.fullmatch(path.name[len(stem) :])
    )


@transaction.atomic
def do_rotate_requisition_packages(request_ids, *, actor, reason: str, directory) -> int:
    """Deletes the export packages of answered or refused requisitions whose period is
    over (the retention purge decides which); returns how many requests lost theirs.

    The request keeps the package's SHA-256, and the audit entry of the export,
    which still prove what was handed over.
    """
    requests = list(
        LegalRequest.objects.filter(pk__in=list(request_ids))
        .exclude(package_name="")
        .select_for_update()
        .order_by("pk")
    )
    if not requests:
        return 0
    directory = Path(directory)
    doomed = [path for request in requests for path in package_files(request, directory)]
    LegalRequest.objects.filter(pk__in=[r.pk for r in requests]).update(package_name="")
    record(
        AuditEvent.REQUISITION_PACKAGES_ROTATED,
        actor=actor,
        target_type="compliance.legalrequest",
        reason=reason,
        details={
            "requests": [r.pk for r in requests],
            "files": [path.name for path in doomed],
        },
    )
    # Last, inside the transaction rather than on commit: if the batch then rolls
    # back, the request still names its package and the next run deletes what is
    # left; a file deleted only after the commit could be orphaned by a crash.
    for path in doomed:
        path.unlink(missing_ok=True)
    return len(requests)
