"""Identity documents on disk: type checked by content, stored off any URL.

Files live under PRIVATE_MEDIA_ROOT/identity-documents/ with random names and
mode 0600; nothing maps a URL onto that folder. Reviewers reach a file only
through the permission-checked admin view, and the file is deleted as soon
as a decision is made.
"""

import os
import re
import secrets
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# A document nobody has reviewed within this period expires: its file is
# deleted by compliance's retention purge (key "pending_identity_documents"
# of COMPLIANCE_RETENTION, whose default this is), its row says "expired".
PENDING_REVIEW_DAYS = 30
RETENTION_KEY = "pending_identity_documents"
DOCUMENT_FOLDER = "identity-documents"
_CHUNK = 64 * 1024

# Signatures by content ("magic bytes"): the name and the browser's declared
# type are the sender's claims, the first bytes are the file.
DOCUMENT_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)
_STORED_NAME = re.compile(r"^[A-Za-z0-9_-]{32,64}\.(jpg|png|pdf)$")


class DocumentRejected(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def pending_review_days() -> int:
    """The review period in force, as the member is told on the age page."""
    from accounts.app_settings import app_settings

    return app_settings.DOCUMENT_REVIEW_DAYS


def sniff_document_type(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG, PNG or PDF by its first bytes, else None."""
    for signature, content_type, extension in DOCUMENT_SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    return None


def document_folder() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / DOCUMENT_FOLDER


def document_path(stored_name: str) -> Path:
    # The name comes from our database, but a strict pattern keeps any
    # accident from ever reaching outside the folder.
    if not _STORED_NAME.match(stored_name):
        raise ValueError(f"not a stored document name: {stored_name!r}")
    return document_folder() / stored_name


def store_document(upload) -> tuple[str, str, int]:
    """Checks and writes an uploaded file; returns (stored name, content type, size)."""
    if upload.size is None or upload.size > MAX_DOCUMENT_BYTES:
        raise DocumentRejected(_("Le fichier dépasse 10 Mo."))
    if upload.size == 0:
        raise DocumentRejected(_("Le fichier est vide."))
    upload.seek(0)
    detected = sniff_document_type(upload.read(16))
    if detected is None:
        raise DocumentRejected(
            _(
                "Ce fichier n'est pas une image JPEG ou PNG, ni un PDF "
                "(vérifié d'après son contenu)."
            )
        )
    content_type, extension = detected
    folder = document_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored_name = f"{secrets.token_urlsafe(32)}.{extension}"
    path = folder / stored_name
    written = 0
    upload.seek(0)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            for chunk in upload.chunks(_CHUNK):
                written += len(chunk)
                if written > MAX_DOCUMENT_BYTES:
                    raise DocumentRejected(_("Le fichier dépasse 10 Mo."))
                file.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return stored_name, content_type, written


def delete_document_file(stored_name: str) -> None:
    document_path(stored_name).unlink(missing_ok=True)
