"""The retention purge in bounded batches: same end state whatever the batch size, one
transaction per batch, and a run killed half-way finished by the next run."""

from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import (
    AccountDeletionRequest,
    AttestationNonce,
    ConnectionRecord,
    DocumentStatus,
    IdentityDocument,
    ReservedPseudonym,
)
from audit.events import AuditEvent
from audit.models import AuditEntry
from compliance import actions
from compliance.models import (
    LegalBasis,
    LegalHold,
    LegalRequest,
    LegalRequestStatus,
    RestrictedCategory,
    RestrictedRecord,
)
from compliance.retention import PURGE_STEPS, retention_policy
from moderation.models import (
    Appeal,
    AppealStatus,
    HeldMessage,
    HeldStatus,
    Measure,
    MisuseMeasure,
    MisuseStep,
    ModeratorNote,
    Notice,
    Report,
    ReportSource,
    ReportStatus,
    RoomModeratorAction,
    RoomModeratorActionKind,
    SafetySignal,
    SafetySignalKind,
    Sanction,
    SanctionKind,
    StatementOfReasons,
    ThreatEscalation,
)
from rooms.models import ContentOperation, ContentOperationKind, Message, PresenceInterval
from tests.compliance.conftest import audit_entries

YEAR = timedelta(days=365)

# What a purge at NOW must do to the seeded rows, by label: the end state of
# today's single-transaction purge, which every batch size must reproduce.
EXPECTED = {
    "connections": {"old-1": False, "old-2": False, "old-3": False, "recent": True, "held": True},
    "challenges": {"old-a": False, "old-b": False, "recent": True, "held": True},
    # status of the pending identity documents after the purge
    "documents": {
        "old-1": DocumentStatus.EXPIRED,
        "old-2": DocumentStatus.EXPIRED,
        "recent": DocumentStatus.PENDING,
        "held": DocumentStatus.PENDING,
    },
    # body after the purge, None when the row is gone
    "messages": {
        "visible": "visible",
        "in-grace": "in-grace",
        "past-grace-1": "",
        "past-grace-2": "",
        "past-grace-3": "",
        "year-old-1": None,
        "year-old-2": None,
        "held-room": "held-room",
        "held-author": "held-author",
        "purged-earlier": "",
    },
    "restricted": {
        "expired-account-1": False,
        "expired-account-2": False,
        "expired-identity": False,
        "current-identity": True,
        "held-expired": True,
    },
    # content operations kept after the purge (one year from the operation)
    "operations": {
        "old-1": False,
        "old-2": False,
        "recent": True,
        "held-author": True,
        "held-room": True,
    },
    # presence intervals kept (a year from their end; one still open always)
    "intervals": {
        "old": False,
        "left-open-by-a-dead-process": False,
        "recent": True,
        "open": True,
        "held-person": True,
        "held-room": True,
    },
    # closed accounts' pseudonym reservations kept (account-data period)
    "reservations": {"old": False, "recent": True, "held": True},
    # moderation's records kept (a year after the case closes, holds and open cases kept)
    # a room moderator's measure: a year from when taken or reversed, while what it
    # points to is kept, held accounts excepted
    "room_actions": {
        "old": False,
        "recent": True,
        "reversed-recently": True,
        "of-kept-sanction": True,
        "of-open-report": True,
        "held": True,
    },
    "escalations": {"old": False, "recent": True},
    "appeals": {"decided-old": False, "open": True, "against-suspension": True},
    "statements": {
        "old": False,
        "recent": True,
        "permanent-ban": True,
        "held": True,
        "old-warning": False,
        # its appeal window long over, but the mute it explains ended recently
        "mute-ended-recently": True,
        "of-warning-in-window": True,
        "of-appealed-suspension": True,
    },
    # sanctions kept a year from their end; a permanent ban in force, always
    "sanctions": {
        "permanent-ban": True,
        "old-warning": False,
        "lifted-old": False,
        "expired-old": False,
        "mute-ended-recently": True,
        "held": True,
    },
    # Art. 23 steps kept a year from their lapse (window and suspension over)
    "misuse": {
        "warning-lapsed": False,
        "suspension-over": False,
        "warning-in-window": True,
        "suspension-appealed": True,
        "held": True,
    },
    "reports": {
        "closed-old": False,
        "escalated-old": False,
        "closed-recent": True,
        "open-old": True,
        "held-target": True,
        "escalated-recent": True,
        "appealed": True,
        # decided long ago, but the sanction decided on it is still kept
        "sanctioned": True,
        "released-hold": True,
    },
    "notices": {"old": False, "recent": True, "of-open-report": True},
    "signals": {"old": False, "recent": True, "held": True},
    "held_messages": {"rejected-old": False, "pending-old": True, "recent": True, "held": True},
    # notes kept a year from their last edit, and while their account's case is open
    "moderator_notes": {
        "old": False,
        "recent": True,
        "open-report": True,
        "open-appeal": True,
        "held": True,
    },
    # the context snapshots' texts of the kept reports: a purged message's text goes
    # from the snapshot too, except in a report on a held account
    # export packages left on disk (by export time): answered more than the
    # package period ago and not held, they go, every export of the request
    "packages": {
        "old": [],
        "recent": ["20260101T000000Z.zip", "20260102T000000Z.zip"],
        "held": ["20260101T000000Z.zip", "20260102T000000Z.zip"],
    },
    # a request whose reference only starts like another's keeps its package
    "other_package": True,
    "snapshots": {
        "closed-recent": ["visible", "", "in-grace"],
        "held-target": ["visible", "past-grace-2"],
        # a text purged while a (since released) hold kept the report whole
        "released-hold": ["visible", ""],
    },
    # the texts a hold keeps in a snapshot, noted for when it is released
    "redactions_due": {"closed-recent": [], "held-target": ["past-grace-2"], "released-hold": []},
}
# Rows each step applies to (pending deletions are completed, not removed).
EXPECTED_COUNTS = {
    "account_deletions": 3,
    "connection_records": 3,
    "attestation_challenges": 2,
    "expired_identity_documents": 2,
    "deleted_message_texts": 5,  # the year-old ones lose their text first
    "content_operation_records": 2,
    "report_snapshots": 1,
    "content_operations": 2,
    "presence_intervals": 2,
    "room_moderator_actions": 1,
    "threat_escalations": 1,
    "appeals": 1,
    "misuse_measures": 2,
    "statements_of_reasons": 2,
    "sanctions": 3,
    "reports": 2,
    "notices": 1,
    "safety_signals": 1,
    "held_messages": 1,
    "moderator_notes": 1,
    "requisition_packages": 1,
    "reserved_pseudonyms": 1,
    "restricted_records": 3,
}


@pytest.fixture
def seeded(
    make_user, make_room, make_message, make_connection, open_request, officer, settings, tmp_path
):
    """Every kind of row the purge touches, expired or not, held or not; returns the labels."""
    now = timezone.now()
    grace = retention_policy().deleted_message_grace
    active, suspect = make_user("active"), make_user("suspect")
    room, held_room = make_room("general"), make_room("enquete")
    open_request(accounts=[suspect], rooms=[held_room])

    connections = {
        "old-1": make_connection(active, created=now - YEAR - timedelta(days=1)),
        "old-2": make_connection(active, created=now - YEAR - timedelta(days=2)),
        "old-3": make_connection(active, created=now - 2 * YEAR),
        "recent": make_connection(active, created=now - YEAR + timedelta(days=1)),
        "held": make_connection(suspect, created=now - 2 * YEAR),
    }
    challenges = {
        label: AttestationNonce.objects.create(user=user, nonce=label, issued_at=now - age)
        for label, user, age in [
            ("old-a", active, YEAR + timedelta(days=1)),
            ("old-b", active, 3 * YEAR),
            ("recent", active, YEAR - timedelta(days=1)),
            ("held", suspect, 2 * YEAR),
        ]
    }
    pending_period = retention_policy().pending_identity_documents
    documents = {
        label: IdentityDocument.objects.create(
            user=user, content_type="image/png", size=200, uploaded_at=now - age
        )
        # One pending document per person: each label has its own sender.
        for label, user, age in [
            ("old-1", active, pending_period + timedelta(days=1)),
            ("old-2", make_user("sender2"), pending_period + timedelta(days=2)),
            ("recent", make_user("sender3"), pending_period - timedelta(days=1)),
            ("held", suspect, pending_period + timedelta(days=1)),
        ]
    }
    deleted_ago = {
        "visible": None,
        "in-grace": grace - timedelta(hours=1),
        "past-grace-1": grace + timedelta(hours=1),
        "past-grace-2": grace + timedelta(days=2),
        "past-grace-3": grace + timedelta(days=3),
        "year-old-1": YEAR + timedelta(days=1),
        "year-old-2": 2 * YEAR,
    }
    messages = {
        label: make_message(room, active, label, deleted_at=None if ago is None else now - ago)
        for label, ago in deleted_ago.items()
    }
    messages["held-room"] = make_message(held_room, active, "held-room", deleted_at=now - YEAR * 2)
    messages["held-author"] = make_message(room, suspect, "held-author", deleted_at=now - YEAR * 2)
    # Its text purged by an earlier run (while a hold, released since, kept a report whole).
    messages["purged-earlier"] = make_message(room, active, "", deleted_at=now - 2 * grace)

    closed = [make_user(f"closed{n}") for n in range(1, 4)]
    restricted = {
        label: RestrictedRecord.objects.create(
            category=category, user=user, occurred_at=now - 2 * YEAR, retain_until=until
        )
        for label, category, user, until in [
            ("expired-account-1", RestrictedCategory.ACCOUNT, closed[0], now - timedelta(days=1)),
            ("expired-account-2", RestrictedCategory.ACCOUNT, closed[1], now - timedelta(days=2)),
            ("expired-identity", RestrictedCategory.IDENTITY, closed[2], now - timedelta(days=1)),
            ("current-identity", RestrictedCategory.IDENTITY, closed[0], now + YEAR),
            ("held-expired", RestrictedCategory.ACCOUNT, suspect, now - timedelta(days=1)),
        ]
    }
    operations = {
        label: ContentOperation.objects.create(
            content_id=1000 + number,
            room_id=operation_room.pk,
            kind=ContentOperationKind.CREATE,
            at=now - age,
            actor=author,
            ip_address="198.51.100.4",
            port=50000 + number,
            protocol="wss",
        )
        for number, (label, author, operation_room, age) in enumerate(
            [
                ("old-1", active, room, YEAR + timedelta(days=1)),
                ("old-2", active, room, 2 * YEAR),
                ("recent", active, room, YEAR - timedelta(days=1)),
                ("held-author", suspect, room, 2 * YEAR),
                ("held-room", active, held_room, 2 * YEAR),
            ]
        )
    }
    intervals = {
        label: PresenceInterval.objects.create(
            room=interval_room,
            user=person,
            started_at=now - age - timedelta(hours=1),
            ended_at=None if age is None or open_ else now - age,
            seen_at=now if age is None else now - age,
        )
        for label, person, interval_room, age, open_ in [
            ("old", active, room, YEAR + timedelta(days=1), False),
            ("left-open-by-a-dead-process", active, room, 2 * YEAR, True),
            ("recent", active, room, YEAR - timedelta(days=1), False),
            ("open", active, room, timedelta(0), True),
            ("held-person", suspect, room, 2 * YEAR, False),
            ("held-room", active, held_room, 2 * YEAR, False),
        ]
    }
    reservations = {
        label: ReservedPseudonym.objects.create(
            pseudonym_key=f"reserved-{label}", reserved_at=now - age, user=user
        )
        for label, user, age in [
            ("old", closed[2], YEAR + timedelta(days=1)),
            ("recent", closed[1], YEAR - timedelta(days=1)),
            ("held", suspect, 2 * YEAR),
        ]
    }
    moderation = _seed_moderation(now, active, suspect, make_user("witness"), room, messages)
    settings.COMPLIANCE_EXPORT_DIR = tmp_path
    packages = _seed_packages(now, officer, active, suspect, tmp_path)
    # Requests left pending (filed before completion became immediate): the
    # purge's first step completes them.
    leaving = [make_user(f"leaving{n}") for n in range(1, 4)]
    for user in leaving:
        AccountDeletionRequest.objects.create(user=user)
    return {
        **moderation,
        "packages": packages,
        "now": now,
        "connections": connections,
        "challenges": challenges,
        "documents": documents,
        "messages": messages,
        "restricted": restricted,
        "operations": operations,
        "intervals": intervals,
        "reservations": reservations,
        "leaving": leaving,
        "erased": [closed[0], closed[1]],
    }


def _seed_moderation(now, active, suspect, witness, room, messages) -> dict:
    """Moderation's records of every kind, their case closed more or less than the
    moderation-records period ago, held or not, still open or not."""
    period = retention_policy().moderation_records
    old, recent, day = now - 2 * period, now - period + timedelta(days=1), timedelta(days=1)

    def snapshot(*labels):
        return [
            {"id": messages[label].pk, "author": "active", "body": label, "deleted": False}
            for label in labels
        ]

    def report(status, decided_at, *, target=active, context=(), notice=None, created=None):
        return Report.objects.create(
            category="harassment",
            source=ReportSource.USER,
            reporter=witness,
            target_user=target,
            room=room,
            context=snapshot(*context),
            notice=notice,
            status=status,
            decided_at=decided_at,
            severity=3,
            created=created or (decided_at or old) - day,
            deadline=(decided_at or old) + day,
        )

    notices = {
        label: Notice.objects.create(
            explanation="contenu illicite",
            location="https://chat.example/r/general/",
            name="Témoin",
            email="temoin@example.org",
            good_faith=True,
            created=created,
        )
        for label, created in [("old", old), ("recent", recent), ("of-open-report", old)]
    }
    reports = {
        "closed-old": report(ReportStatus.DISMISSED, now - period - day, context=["visible"]),
        "escalated-old": report(ReportStatus.ACTIONED, old),
        "closed-recent": report(
            ReportStatus.ACTIONED, recent, context=["visible", "past-grace-1", "in-grace"]
        ),
        "open-old": report(ReportStatus.OPEN, None, notice=notices["of-open-report"], created=old),
        "held-target": report(
            ReportStatus.DISMISSED, old, target=suspect, context=["visible", "past-grace-2"]
        ),
        "escalated-recent": report(ReportStatus.ACTIONED, old),
        "appealed": report(ReportStatus.DISMISSED, old),
        "sanctioned": report(ReportStatus.ACTIONED, old),
        "released-hold": report(ReportStatus.ACTIONED, recent, context=["visible"]),
    }
    released = reports["released-hold"]
    released.context.append(
        {"id": messages["purged-earlier"].pk, "author": "active", "body": "texte d'avant"}
    )
    released.redactions_due = [messages["purged-earlier"].pk]
    released.save(update_fields=["context", "redactions_due"])
    escalations = {
        label: ThreatEscalation.objects.create(
            report=reports[report_label],
            information={"email": "active@example.org", "ip_address": "203.0.113.7"},
            created=old,
            transmitted_at=transmitted_at,
        )
        for label, report_label, transmitted_at in [
            ("old", "escalated-old", old),
            ("recent", "escalated-recent", recent),
        ]
    }

    def sanction(kind, starts_at, *, user=active, ends_at=None, lifted_at=None, report=None):
        return Sanction.objects.create(
            kind=kind,
            user=user,
            reason="menaces",
            ground="terms_violence",
            starts_at=starts_at,
            ends_at=ends_at,
            lifted_at=lifted_at,
            report=report,
            created=starts_at,
        )

    sanctions = {
        "permanent-ban": sanction(SanctionKind.BAN, old),
        # A warning ends when it is given.
        "old-warning": sanction(SanctionKind.WARN, now - period - day),
        "lifted-old": sanction(SanctionKind.BAN, old, lifted_at=now - period - day),
        "expired-old": sanction(SanctionKind.MUTE, old, ends_at=now - period - day),
        "mute-ended-recently": sanction(
            SanctionKind.MUTE, old, ends_at=recent, report=reports["sanctioned"]
        ),
        "held": sanction(SanctionKind.KICK, old, user=suspect, ends_at=old + day),
    }
    ban = sanctions["permanent-ban"]

    def statement(user, appeal_until, sanction=None):
        return StatementOfReasons.objects.create(
            user=user,
            measure=Measure.BAN if sanction else Measure.REMOVAL,
            sanction=sanction,
            scope="tout le site",
            starts_at=appeal_until - 180 * day,
            facts="« un message cité »",
            ground="terms_harassment",
            explanation="harcèlement",
            redress="recours",
            appeal_until=appeal_until,
            created=appeal_until - 180 * day,
        )

    statements = {
        "old": statement(active, now - period - day),
        "recent": statement(active, recent),
        "permanent-ban": statement(active, old, sanction=ban),
        "held": statement(suspect, old),
        "old-warning": statement(active, old, sanction=sanctions["old-warning"]),
        "mute-ended-recently": statement(active, old, sanction=sanctions["mute-ended-recently"]),
        "of-warning-in-window": statement(active, old),
        "of-appealed-suspension": statement(active, old),
    }
    provider_window = timedelta(days=180)  # MODERATION_ILLEGAL_CONTENT_WINDOW_DAYS
    notifier_window = timedelta(days=90)  # MODERATION_UNFOUNDED_REPORTS_WINDOW_DAYS

    def misuse(kind, created, *, user=active, ends_at=None, statement=None):
        return MisuseMeasure.objects.create(
            kind=kind,
            user=user,
            created=created,
            ends_at=ends_at,
            statement=statement,
            figures={"illegal_contents": 3, "window_days": 180, "threshold": 3},
        )

    misuse_measures = {
        "warning-lapsed": misuse(MisuseStep.PROVIDER_WARNING, now - period - provider_window - day),
        "suspension-over": misuse(
            MisuseStep.NOTIFIER_SUSPENSION,
            now - period - notifier_window - day,
            ends_at=now - period - day,
        ),
        # Issued over a period ago, but its window ends less than a period ago.
        "warning-in-window": misuse(
            MisuseStep.PROVIDER_WARNING,
            now - period - day,
            statement=statements["of-warning-in-window"],
        ),
        "suspension-appealed": misuse(
            MisuseStep.NOTIFIER_SUSPENSION,
            old,
            ends_at=old + 30 * day,
            statement=statements["of-appealed-suspension"],
        ),
        "held": misuse(MisuseStep.PROVIDER_WARNING, old, user=suspect),
    }
    appeals = {
        "decided-old": Appeal.objects.create(
            statement=statements["old"],
            appellant=active,
            text="je conteste",
            status=AppealStatus.UPHELD,
            created=old,
            decided_at=old + day,
        ),
        "open": Appeal.objects.create(
            report=reports["appealed"], appellant=witness, text="je conteste", created=old
        ),
        # Still open: the suspension it contests may yet be ended early.
        "against-suspension": Appeal.objects.create(
            statement=statements["of-appealed-suspension"],
            appellant=active,
            text="je conteste",
            created=old,
        ),
    }
    signals = {
        label: SafetySignal.objects.create(
            kind=SafetySignalKind.MEETUP_WITH_CONTACT,
            user=user,
            excerpt="06 12 34 56 78",
            created=created,
        )
        for label, user, created in [
            ("old", active, old),
            ("recent", active, recent),
            ("held", suspect, old),
        ]
    }
    held_messages = {
        label: HeldMessage.objects.create(
            room=room, author=user, body=label, status=status, created=at, decided_at=decided
        )
        for label, user, status, at, decided in [
            ("rejected-old", active, HeldStatus.REJECTED, old, old),
            ("pending-old", active, HeldStatus.PENDING, old, None),
            ("recent", active, HeldStatus.RELEASED, recent, recent),
            ("held", suspect, HeldStatus.REJECTED, old, old),
        ]
    }
    quiet = get_user_model().objects.create_user(
        username="sans-dossier-ouvert", email="quiet@example.org", password="x" * 12
    )
    moderator_notes = {
        label: ModeratorNote.objects.create(
            subject=user, body=f"note {label}", created=at, updated=at
        )
        for label, user, at in [
            ("old", quiet, old),
            ("recent", quiet, recent),
            ("open-report", active, old),  # the report "open-old" is about them
            ("open-appeal", witness, old),  # their appeal "open" is not decided
            ("held", suspect, old),
        ]
    }

    def room_action(created, *, target=active, reversed_at=None, **links):
        return RoomModeratorAction.objects.create(
            room=room,
            actor=witness,
            role="moderator",
            kind=RoomModeratorActionKind.KICK,
            target_user=target,
            reason="r",
            created=created,
            reversed_at=reversed_at,
            **links,
        )

    room_actions = {
        "old": room_action(old),
        "recent": room_action(recent),
        "reversed-recently": room_action(old, reversed_at=recent),
        "of-kept-sanction": room_action(old, sanction=sanctions["permanent-ban"]),
        "of-open-report": room_action(old, report=reports["open-old"]),
        "held": room_action(old, target=suspect),
    }
    return {
        "moderator_notes": moderator_notes,
        "room_actions": room_actions,
        "escalations": escalations,
        "appeals": appeals,
        "sanctions": sanctions,
        "misuse": misuse_measures,
        "statements": statements,
        "reports": reports,
        "notices": notices,
        "signals": signals,
        "held_messages": held_messages,
    }


def _seed_packages(now, officer, active, suspect, directory) -> dict:
    """Answered requisitions with their export package on disk: answered more or less
    than the package period ago, on a held account or not."""
    period = retention_policy().requisition_packages
    packages = {}
    for label, account, answered_ago in [
        ("old", active, period + timedelta(days=1)),
        ("recent", active, period - timedelta(days=1)),
        ("held", suspect, 2 * period),
    ]:
        request = LegalRequest.objects.create(
            reference=f"PV-PKG-{label}",
            authority="Parquet",
            legal_basis=LegalBasis.CPP_77_1_1,
            received_at=now - 3 * period,
            deadline=now - 3 * period + timedelta(days=10),
            period_start=now - 4 * period,
            period_end=now - 3 * period,
            assigned_officer=officer,
            status=LegalRequestStatus.ANSWERED,
            answered_at=now - answered_ago,
            package_name=f"requisition-pv-pkg-{label}-20260101T000000Z.zip",
            package_sha256="0" * 64,
        )
        request.accounts.add(account)
        # Two exports of the same request, both go; another request's stay.
        for stamp in ("20260101T000000Z", "20260102T000000Z"):
            (directory / f"requisition-pv-pkg-{label}-{stamp}.zip").write_bytes(b"zip")
        packages[label] = request
    (directory / "requisition-pv-pkg-old-2-20260101T000000Z.zip").write_bytes(b"other")
    return packages


MODERATION_MODELS = {
    "room_actions": RoomModeratorAction,
    "escalations": ThreatEscalation,
    "appeals": Appeal,
    "sanctions": Sanction,
    "misuse": MisuseMeasure,
    "statements": StatementOfReasons,
    "reports": Report,
    "notices": Notice,
    "signals": SafetySignal,
    "held_messages": HeldMessage,
    "moderator_notes": ModeratorNote,
}


def _state(seeded) -> dict:
    """The seeded rows as EXPECTED describes them."""
    from django.conf import settings

    bodies = dict(Message.objects.values_list("pk", "body"))
    names = {message.pk: label for label, message in seeded["messages"].items()}
    return {
        "connections": {
            label: ConnectionRecord.objects.filter(pk=row.pk).exists()
            for label, row in seeded["connections"].items()
        },
        "challenges": {
            label: AttestationNonce.objects.filter(pk=row.pk).exists()
            for label, row in seeded["challenges"].items()
        },
        "documents": {
            label: IdentityDocument.objects.get(pk=row.pk).status
            for label, row in seeded["documents"].items()
        },
        "messages": {label: bodies.get(row.pk) for label, row in seeded["messages"].items()},
        "restricted": {
            label: RestrictedRecord.objects.filter(pk=row.pk).exists()
            for label, row in seeded["restricted"].items()
        },
        "operations": {
            label: ContentOperation.objects.filter(pk=row.pk).exists()
            for label, row in seeded["operations"].items()
        },
        "intervals": {
            label: PresenceInterval.objects.filter(pk=row.pk).exists()
            for label, row in seeded["intervals"].items()
        },
        "reservations": {
            label: ReservedPseudonym.objects.filter(pk=row.pk).exists()
            for label, row in seeded["reservations"].items()
        },
        **{
            kind: {
                label: model.objects.filter(pk=row.pk).exists()
                for label, row in seeded[kind].items()
            }
            for kind, model in MODERATION_MODELS.items()
        },
        "packages": {
            label: sorted(
                path.name.rsplit("-", 1)[1]
                for path in actions.package_files(request, settings.COMPLIANCE_EXPORT_DIR)
            )
            for label, request in seeded["packages"].items()
        },
        "other_package": (
            settings.COMPLIANCE_EXPORT_DIR / "requisition-pv-pkg-old-2-20260101T000000Z.zip"
        ).exists(),
        "snapshots": {
            label: None if context is None else [entry["body"] for entry in context]
            for label in ("closed-recent", "held-target", "released-hold")
            for context in [
                Report.objects.filter(pk=seeded["reports"][label].pk)
                .values_list("context", flat=True)
                .first()
            ]
        },
        "redactions_due": {
            label: [names[pk] for pk in due or []]
            for label in ("closed-recent", "held-target", "released-hold")
            for due in [
                Report.objects.filter(pk=seeded["reports"][label].pk)
                .values_list("redactions_due", flat=True)
                .first()
            ]
        },
    }


def _assert_purged_once(seeded) -> None:
    """The end state, and one audit entry per deletion or erasure, however many runs it took."""
    assert _state(seeded) == EXPECTED
    for user in seeded["leaving"]:
        user.refresh_from_db()
        assert user.username.startswith("supprime-") and not user.is_active
    assert not AccountDeletionRequest.objects.filter(completed_at__isnull=True).exists()
    completed = Counter(e.target_id for e in audit_entries(AuditEvent.ACCOUNT_DELETION_COMPLETED))
    assert completed == {str(user.pk): 1 for user in seeded["leaving"]}
    erased = Counter(e.target_id for e in audit_entries(AuditEvent.AUDIT_PERSONAL_DATA_ERASED))
    assert erased == {str(user.pk): 1 for user in seeded["erased"]}
    # The batch entries of all runs together cover each purged row once.
    rows = Counter()
    for batch in audit_entries(AuditEvent.RETENTION_PURGE_BATCH):
        rows[batch.details["step"]] += batch.details["rows"]
    assert dict(rows) == EXPECTED_COUNTS
    call_command("audit_verify", verbosity=0)


@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_same_end_state_whatever_the_batch_size(seeded, batch_size):
    summary = actions.do_purge_expired(actor=None, now=seeded["now"], batch_size=batch_size)

    assert summary.counts == EXPECTED_COUNTS
    assert summary.audit_erasures == 2
    _assert_purged_once(seeded)
    batches = audit_entries(AuditEvent.RETENTION_PURGE_BATCH)
    assert all(batch.details["rows"] <= batch_size for batch in batches)
    # Each step runs in ceil(rows / batch_size) batches, no more.
    per_step = Counter(batch.details["step"] for batch in batches)
    assert per_step == {step: -(-n // batch_size) for step, n in EXPECTED_COUNTS.items()}
    assert summary.batches == len(batches)
    (run,) = audit_entries(AuditEvent.RETENTION_PURGE_RUN)
    assert run.details["batches"] == len(batches)
    assert {batch.details["run"] for batch in batches} == {run.details["run"]}
    # A second run finds nothing left.
    again = actions.do_purge_expired(actor=None, now=seeded["now"], batch_size=batch_size)
    assert again.counts == dict.fromkeys(PURGE_STEPS, 0) and again.batches == 0


def test_dry_run_is_unchanged_by_batching(seeded):
    before = _state(seeded)
    summary = actions.do_purge_expired(actor=None, now=seeded["now"], dry_run=True, batch_size=1)
    assert summary.counts == EXPECTED_COUNTS
    assert summary.audit_erasures == 2 and summary.batches == 0
    assert _state(seeded) == before
    assert audit_entries(AuditEvent.RETENTION_PURGE_BATCH) == []


class SimulatedCrash(Exception):
    pass


@contextmanager
def crash_inside_batch(number: int):
    """Fails the `number`th batch at its audit entry, after its own writes ran.

    Through Django's query hook (a real code path): the batch's deletions
    have been sent to the database when the failure comes, so only a real
    rollback of that batch's transaction leaves them in place.
    """
    table = AuditEntry._meta.db_table
    seen = 0

    def fail(execute, sql, params, many, context):
        nonlocal seen
        is_batch_entry = (
            sql.lstrip().upper().startswith("INSERT")
            and table in sql
            and int(AuditEvent.RETENTION_PURGE_BATCH) in (params or ())
        )
        if is_batch_entry:
            seen += 1
            if seen == number:
                raise SimulatedCrash(f"killed inside batch {number}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail):
        yield


def _crash_after_batches(number: int):
    """A progress callback that kills the run once `number` batches have committed."""
    committed = 0

    def progress(step, done, total):
        nonlocal committed
        if done:
            committed += 1
            if committed == number:
                raise SimulatedCrash(f"killed after batch {number}")

    return progress


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("where", "batch_number"),
    # In the first step (account deletions), mid-run, in the last step.
    [("inside", 2), ("between", 5), ("inside", 10)],
)
def test_a_run_killed_mid_way_is_finished_by_the_next(seeded, where, batch_number):
    now = seeded["now"]
    if where == "inside":
        with crash_inside_batch(batch_number), pytest.raises(SimulatedCrash):
            actions.do_purge_expired(actor=None, now=now, batch_size=2)
        committed = batch_number - 1
    else:
        with pytest.raises(SimulatedCrash):
            actions.do_purge_expired(
                actor=None, now=now, batch_size=2, progress=_crash_after_batches(batch_number)
            )
        committed = batch_number
    # Exactly the committed batches are in the trail; the killed run has no run entry.
    assert len(audit_entries(AuditEvent.RETENTION_PURGE_BATCH)) == committed
    assert audit_entries(AuditEvent.RETENTION_PURGE_RUN) == []
    assert _state(seeded) != EXPECTED

    summary = actions.do_purge_expired(actor=None, now=now, batch_size=2)

    _assert_purged_once(seeded)
    # The second run did only what the first left undone.
    assert sum(summary.counts.values()) < sum(EXPECTED_COUNTS.values())
    (run,) = audit_entries(AuditEvent.RETENTION_PURGE_RUN)
    assert run.details["counts"] == summary.counts


@pytest.mark.django_db(transaction=True)
def test_no_transaction_and_so_no_audit_lock_between_batches(seeded):
    between = []

    def progress(step, done, total):
        # Called after each commit: nothing of the purge may be left open.
        between.append((connection.in_atomic_block, connection.get_autocommit()))

    actions.do_purge_expired(actor=None, now=seeded["now"], batch_size=2, progress=progress)

    assert len(between) > sum(EXPECTED_COUNTS.values()) // 2
    assert set(between) == {(False, True)}


def test_holds_placed_during_the_run_are_respected(
    seeded, make_user, make_connection, open_request
):
    """A hold placed between two batches protects its rows from the next batch on."""
    now = seeded["now"]
    late = make_user("late-suspect")
    late_records = [make_connection(late, created=now - 2 * YEAR) for _ in range(3)]
    placed = []

    def progress(step, done, total):
        if step == "connection_records" and done and not placed:
            placed.append(open_request(accounts=[late]))

    actions.do_purge_expired(actor=None, now=now, batch_size=2, progress=progress)

    # The batch that ran before the hold purged what it held (the oldest ids:
    # the seeded records); the late suspect's records were all kept.
    assert placed
    assert all(ConnectionRecord.objects.filter(pk=r.pk).exists() for r in late_records)
    assert _state(seeded) == EXPECTED


def test_a_purge_far_in_the_future_keeps_only_open_cases_and_holds(seeded):
    """2,000 days on, moderation keeps nothing of a closed case but what a hold or a
    measure still in force needs (the finding of issue 16: reports, statements and an
    escalation with an e-mail and IP address outliving the promise)."""
    actions.do_purge_expired(actor=None, now=seeded["now"] + timedelta(days=2000))

    state = _state(seeded)
    kept = {
        kind: {label for label, present in state[kind].items() if present}
        for kind in MODERATION_MODELS
    }
    assert kept == {
        # a ban in force, an open report, a held account
        "room_actions": {"of-kept-sanction", "of-open-report", "held"},
        "escalations": set(),
        "appeals": {"open", "against-suspension"},  # not decided yet
        # a ban in force; a held account; a suspension still contested
        "statements": {"permanent-ban", "held", "of-appealed-suspension"},
        "sanctions": {"permanent-ban", "held"},
        "misuse": {"suspension-appealed", "held"},
        "reports": {"open-old", "held-target", "appealed"},
        "notices": {"of-open-report"},
        "signals": {"held"},
        "held_messages": {"pending-old", "held"},
        "moderator_notes": {"open-report", "open-appeal", "held"},
    }
    # Nothing else is left in moderation's tables.
    for kind, model in MODERATION_MODELS.items():
        assert model.objects.count() == len(kept[kind]), kind


def test_package_rotation_is_audited_with_the_files_it_deleted(seeded):
    actions.do_purge_expired(actor=None, now=seeded["now"])

    (entry,) = audit_entries(AuditEvent.REQUISITION_PACKAGES_ROTATED)
    assert entry.details == {
        "requests": [seeded["packages"]["old"].pk],
        "files": [
            "requisition-pv-pkg-old-20260101T000000Z.zip",
            "requisition-pv-pkg-old-20260102T000000Z.zip",
        ],
    }
    request = LegalRequest.objects.get(pk=seeded["packages"]["old"].pk)
    # What was handed over stays provable: the digest is kept, only the file went.
    assert request.package_name == "" and request.package_sha256 == "0" * 64


def test_a_released_hold_lets_the_next_purge_redact_the_snapshot_it_kept(seeded, officer):
    """A report on a held account keeps the texts the purge removed elsewhere; once the
    hold is released, the next run takes them out of its snapshot too (issue 16)."""
    now = seeded["now"]
    quoted = seeded["messages"]["past-grace-1"]
    recent_on_suspect = Report.objects.create(
        category="harassment",
        source=ReportSource.USER,
        target_user=LegalHold.objects.filter(user__isnull=False).first().user,
        room=quoted.room,  # the conversation around the reported message
        context=[{"id": quoted.pk, "author": "active", "body": "past-grace-1"}],
        status=ReportStatus.DISMISSED,
        decided_at=now - timedelta(days=1),
        severity=3,
        deadline=now,
    )
    actions.do_purge_expired(actor=None, now=now)
    recent_on_suspect.refresh_from_db()
    assert recent_on_suspect.context[0]["body"] == "past-grace-1"
    assert recent_on_suspect.redactions_due == [quoted.pk]
    # Still held: a second run leaves it whole and counts nothing for it.
    assert actions.do_purge_expired(actor=None, now=now).counts["report_snapshots"] == 0

    for hold in LegalHold.objects.filter(released_at__isnull=True):
        actions.do_release_hold(hold, actor=officer, reason="procédure close")
    summary = actions.do_purge_expired(actor=None, now=now)

    # Both reports the hold kept whole (the old one then goes, its period over).
    assert summary.counts["report_snapshots"] == 2
    recent_on_suspect.refresh_from_db()
    assert recent_on_suspect.context == [
        {"id": quoted.pk, "author": "active", "body": "", "redacted": True}
    ]
    assert recent_on_suspect.redactions_due == []
    assert not Report.objects.filter(pk=seeded["reports"]["held-target"].pk).exists()
    after_hold = [
        entry.details["reports"]
        for entry in audit_entries(AuditEvent.REPORT_SNAPSHOTS_REDACTED)
        if entry.details.get("after_hold")
    ]
    assert after_hold == [1, 2]  # the seeded report released earlier, then these two
    # Done once: nothing is left to redact.
    assert actions.do_purge_expired(actor=None, now=now).counts["report_snapshots"] == 0
