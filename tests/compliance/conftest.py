"""Fixtures of the compliance tests: officers, a moderator, rooms, messages, records."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import staff_client


@pytest.fixture
def officer(make_staff):
    return make_staff("compliance", username="anne")


@pytest.fixture
def second_officer(make_staff):
    return make_staff("compliance", username="bruno")


@pytest.fixture
def moderator(make_staff):
    return make_staff("moderator", username="modo1")


verified_client = staff_client


@pytest.fixture
def make_room(db):
    from rooms.models import Room, RoomKind

    counter = iter(range(1, 1_000_000))

    def make(slug=None, kind=RoomKind.PUBLIC):
        number = next(counter)
        return Room.objects.create(
            kind=kind, slug=slug or f"salon-{number}", name=f"Salon {number}"
        )

    return make


@pytest.fixture
def make_message(db):
    from rooms.models import Message

    def make(room, author, body="bonjour", *, created=None, deleted_at=None):
        return Message.objects.create(
            room=room,
            author=author,
            body=body,
            created=created or timezone.now(),
            deleted_at=deleted_at,
        )

    return make


@pytest.fixture
def make_connection(db):
    from accounts.models import ConnectionKind, ConnectionRecord

    def make(user, *, ip="203.0.113.7", port=40123, created=None, kind=ConnectionKind.LOGIN):
        return ConnectionRecord.objects.create(
            user=user, kind=kind, ip_address=ip, port=port, created=created or timezone.now()
        )

    return make


@pytest.fixture
def open_request(officer):
    """Opens a requisition on accounts/rooms, for the last 30 days, every category."""
    from compliance.actions import do_open_legal_request
    from compliance.models import DataCategory, LegalBasis

    counter = iter(range(1, 1_000_000))

    def open_(*, accounts=(), rooms=(), place_holds=True, categories=None, **fields):
        now = timezone.now()
        values = {
            "reference": f"PV-2026-{next(counter):04d}",
            "authority": "Parquet de Paris, section J3",
            "legal_basis": LegalBasis.CPP_77_1_1,
            "received_at": now,
            "deadline": now + timedelta(days=10),
            "period_start": now - timedelta(days=30),
            "period_end": now + timedelta(minutes=5),
            "data_categories": categories or list(DataCategory.values),
            "assigned_officer": officer,
        }
        values.update(fields)
        return do_open_legal_request(
            accounts=accounts, rooms=rooms, place_holds=place_holds, actor=officer, **values
        )

    return open_


def audit_entries(event, **filters):
    from audit.models import AuditEntry

    return list(AuditEntry.objects.filter(event=int(event), **filters).order_by("seq"))
