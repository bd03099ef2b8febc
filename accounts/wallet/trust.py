"""The trust list: the IACA root certificates whose proofs of age we accept.

AGE_WALLET_TRUST_LIST names a PEM file (one or more certificates); none is
trusted without it outside DEBUG. Under DEBUG the demonstration issuer's root
is added, and only then. Read at each use, so an updated file takes effect
without a restart.
"""

import logging
from pathlib import Path

from cryptography import x509
from django.conf import settings

logger = logging.getLogger(__name__)


def configured_roots() -> list[x509.Certificate]:
    path = settings.AGE_WALLET_TRUST_LIST
    if not path:
        return []
    try:
        return x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError):
        # A broken file must not turn every answer into a server error: nothing
        # is trusted until it is fixed, and the log says why.
        logger.exception("AGE_WALLET_TRUST_LIST (%s) could not be loaded", path)
        return []


def trusted_roots() -> list[x509.Certificate]:
    roots = configured_roots()
    if settings.DEBUG:
        from accounts.wallet import demo

        roots.append(demo.issuer_root())
    return roots


def anchor_name(certificate: x509.Certificate) -> str:
    """How a trust anchor is recorded: its subject, RFC 4514, cut to the column."""
    return certificate.subject.rfc4514_string()[:200]
