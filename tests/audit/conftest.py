"""Fixtures for the audit tests: OTP-verified staff clients and entries to verify."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit import guards
from audit.events import AuditEvent
from audit.models import AuditEntry
from audit.trail import record


def verified_client(client, user):
    """A client signed in as `user`, with the session's second factor passed."""
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def superuser(make_user):
    return make_user("chief", is_staff=True, is_superuser=True)


@pytest.fixture
def compliance_officer(make_user):
    user = make_user("officer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    return user


@pytest.fixture
def superuser_client(client, superuser):
    return verified_client(client, superuser)


@pytest.fixture
def officer_client(client, compliance_officer):
    return verified_client(client, compliance_officer)


@pytest.fixture
def append_entries():
    """Appends n entries, one transaction each, as actions do."""

    def append(n: int, *, actor=None, event=AuditEvent.ADMIN_CHANGE) -> list[AuditEntry]:
        entries = []
        for index in range(n):
            with transaction.atomic():
                entries.append(
                    record(
                        event,
                        actor=actor,
                        target_type="rooms.room",
                        target_id=index,
                        reason=f"test {index}",
                        details={"index": index},
                        ip_address="192.0.2.7",
                    )
                )
        return entries

    return append


@pytest.fixture
def tamper():
    """Raw SQL on the audit table, guards lifted: an attacker with the owner's rights."""

    def run(sql: str, params=()):
        with guards.suspended(connection), connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run


def entries_since(seq: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(seq__gt=seq).order_by("seq"))


def last_seq() -> int:
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
