"""Moderation forgets its expired records and the purged texts its report snapshots
quote, through its own actions (compliance's purge decides what is due)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.events import AuditEvent
from audit.models import AuditEntry
from moderation.actions import (
    MODERATION_RECORDS,
    do_forget_moderation_records,
    do_redact_released_snapshots,
    do_redact_report_snapshots,
)
from moderation.models import (
    Appeal,
    HeldMessage,
    Notice,
    Report,
    ReportSource,
    ReportStatus,
    SafetySignal,
    SafetySignalKind,
)
from moderation.queries import held_back_snapshots, snapshot
from rooms.models import Message

pytestmark = pytest.mark.django_db


def _report(target, room, context, **fields):
    now = timezone.now()
    return Report.objects.create(
        category="harassment",
        source=ReportSource.USER,
        target_user=target,
        room=room,
        context=context,
        severity=3,
        status=ReportStatus.DISMISSED,
        decided_at=now,
        deadline=now + timedelta(days=1),
        **fields,
    )


def test_every_purge_step_of_moderation_is_a_known_record_kind():
    from compliance.retention import MODERATION_STEPS

    assert set(MODERATION_STEPS) == set(MODERATION_RECORDS)


def test_forget_records_deletes_only_the_given_rows_of_that_kind(make_user, make_room):
    member, room = make_user("membre"), make_room()
    signals = [
        SafetySignal.objects.create(kind=SafetySignalKind.MOVE_TO_OTHER_APP, user=member)
        for _ in range(3)
    ]
    held = HeldMessage.objects.create(room=room, author=member, body="retenu")

    # A held message's id among the signals' ids is not a signal: left alone.
    forgotten = do_forget_moderation_records(
        "safety_signals", [signals[0].pk, signals[1].pk, held.pk + 1000], actor=None, reason="r"
    )

    assert forgotten == 2
    assert list(SafetySignal.objects.values_list("pk", flat=True)) == [signals[2].pk]
    assert HeldMessage.objects.filter(pk=held.pk).exists()
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.MODERATION_RECORDS_FORGOTTEN)
    assert entry.target_type == "moderation.safetysignal" and entry.reason == "r"
    assert entry.details == {
        "kind": "safety_signals",
        "rows": 2,
        "first_id": signals[0].pk,
        "last_id": signals[1].pk,
    }
    # Nothing left to forget: no entry.
    assert do_forget_moderation_records("notices", [1, 2], actor=None, reason="r") == 0
    assert AuditEntry.objects.filter(event=AuditEvent.MODERATION_RECORDS_FORGOTTEN).count() == 1


def test_forgetting_a_report_counts_its_rows_only(make_user, make_room):
    member, room = make_user("membre"), make_room()
    notice = Notice.objects.create(
        explanation="x", location="https://chat.example/", email="a@example.org", good_faith=True
    )
    report = _report(member, room, [], notice=notice)
    Appeal.objects.create(report=report, appellant=make_user("témoin"), text="je conteste")

    assert do_forget_moderation_records("reports", [report.pk], actor=None, reason="r") == 1
    assert not Appeal.objects.exists()  # cascades, not counted as a report
    assert Notice.objects.filter(pk=notice.pk).exists()  # its own step, its own period


def test_snapshots_lose_the_purged_texts_only(make_user, make_room):
    author, other, target = make_user("auteur"), make_user("autre"), make_user("cible")
    room, elsewhere = make_room(), make_room()
    purged = Message.objects.create(room=room, author=author, body="texte effacé")
    kept = Message.objects.create(room=room, author=other, body="texte gardé")
    # A report in the message's room (the context around a reported message) and one
    # on its author from another room (the target's recent messages) both quote it.
    around = _report(target, room, [snapshot(purged), snapshot(kept)])
    on_author = _report(author, elsewhere, [snapshot(purged)])
    unrelated = _report(other, elsewhere, [snapshot(kept)])

    changed = do_redact_report_snapshots([purged.pk], actor=None, reason="r")

    assert changed == 2
    around.refresh_from_db()
    on_author.refresh_from_db()
    unrelated.refresh_from_db()
    assert [(e["id"], e["body"], e.get("redacted")) for e in around.context] == [
        (purged.pk, "", True),
        (kept.pk, "texte gardé", None),
    ]
    # Who and when stay: the snapshot still says a message was there.
    assert around.context[0]["author_id"] == author.pk and around.context[0]["created"]
    assert on_author.context[0]["body"] == ""
    assert unrelated.context[0]["body"] == "texte gardé"
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.REPORT_SNAPSHOTS_REDACTED)
    assert entry.details == {"reports": 2, "first_id": around.pk, "last_id": on_author.pk}
    # Done once: a second call finds nothing to redact and writes nothing.
    assert do_redact_report_snapshots([purged.pk], actor=None, reason="r") == 0
    assert AuditEntry.objects.filter(event=AuditEvent.REPORT_SNAPSHOTS_REDACTED).count() == 1


def test_snapshots_of_held_accounts_and_rooms_are_kept(make_user, make_room):
    author, suspect, witness = make_user("auteur"), make_user("suspect"), make_user("témoin")
    room, held_room = make_room(), make_room()
    purged = Message.objects.create(room=room, author=author, body="texte effacé")
    on_suspect = _report(suspect, room, [snapshot(purged)])
    by_suspect = _report(author, room, [snapshot(purged)], reporter=suspect)
    # On the author (a candidate through its target), filed in a held room.
    in_held_room = _report(author, held_room, [snapshot(purged)])
    free = _report(witness, room, [snapshot(purged)])

    changed = do_redact_report_snapshots(
        [purged.pk],
        actor=None,
        reason="r",
        held_users={suspect.pk},
        held_rooms={held_room.pk},
    )

    assert changed == 1
    bodies = {
        report.pk: Report.objects.get(pk=report.pk).context[0]["body"]
        for report in (on_suspect, by_suspect, in_held_room, free)
    }
    assert bodies == {
        on_suspect.pk: "texte effacé",
        by_suspect.pk: "texte effacé",
        in_held_room.pk: "texte effacé",
        free.pk: "",
    }
    # The held ones remember what to redact once no hold covers them.
    due = {
        report.pk: Report.objects.get(pk=report.pk).redactions_due
        for report in (on_suspect, by_suspect, in_held_room, free)
    }
    assert due == {
        on_suspect.pk: [purged.pk],
        by_suspect.pk: [purged.pk],
        in_held_room.pk: [purged.pk],
        free.pk: [],
    }
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.REPORT_SNAPSHOTS_REDACTED)
    assert entry.details == {
        "reports": 1,
        "first_id": free.pk,
        "last_id": free.pk,
        "deferred_under_hold": 3,
    }


def test_snapshots_kept_by_a_hold_are_redacted_once_it_no_longer_covers_them(make_user, make_room):
    author, suspect, other = make_user("auteur"), make_user("suspect"), make_user("autre")
    room = make_room()
    purged = Message.objects.create(room=room, author=author, body="texte effacé")
    kept = Message.objects.create(room=room, author=other, body="texte gardé")
    on_suspect = _report(suspect, room, [snapshot(purged), snapshot(kept)])
    do_redact_report_snapshots([purged.pk], actor=None, reason="r", held_users={suspect.pk})
    assert list(held_back_snapshots(held_users={suspect.pk})) == []
    assert list(held_back_snapshots()) == [on_suspect]

    # Asked while the hold still covers it (placed again meanwhile): left whole.
    assert (
        do_redact_released_snapshots(
            [on_suspect.pk], actor=None, reason="r", held_users={suspect.pk}
        )
        == 0
    )
    on_suspect.refresh_from_db()
    assert on_suspect.context[0]["body"] == "texte effacé"

    assert do_redact_released_snapshots([on_suspect.pk], actor=None, reason="r") == 1

    on_suspect.refresh_from_db()
    assert [(e["body"], e.get("redacted")) for e in on_suspect.context] == [
        ("", True),
        ("texte gardé", None),
    ]
    assert on_suspect.redactions_due == []
    entry = (
        AuditEntry.objects.filter(event=AuditEvent.REPORT_SNAPSHOTS_REDACTED).order_by("seq").last()
    )
    assert entry.details == {
        "reports": 1,
        "first_id": on_suspect.pk,
        "last_id": on_suspect.pk,
        "after_hold": True,
    }
    assert list(held_back_snapshots()) == []
    assert do_redact_released_snapshots([on_suspect.pk], actor=None, reason="r") == 0
