"""Requisitions from opening to export, holds, and the four-eyes rule."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.events import AuditEvent
from compliance import actions
from compliance.models import LegalHold, LegalRequestStatus
from core.refusals import Refused
from tests.compliance.conftest import audit_entries


@pytest.fixture
def scene(make_user, make_room, make_message, make_connection):
    from moderation.models import Report, ReportCategory, ReportSource, Sanction

    alice = make_user("alice")
    bob = make_user("bob")
    room = make_room("general")
    now = timezone.now()
    in_scope = make_message(room, alice, "rendez-vous ce soir", created=now - timedelta(days=2))
    # Edited: the package carries the text as first posted too.
    in_scope.versions.create(number=0, body="rendez-vous demain", written_at=in_scope.created)
    too_old = make_message(room, alice, "il y a longtemps", created=now - timedelta(days=90))
    bobs = make_message(room, bob, "message de bob")
    make_connection(alice, ip="198.51.100.23", port=51515, created=now - timedelta(days=1))
    make_connection(alice, ip="198.51.100.99", port=1, created=now - timedelta(days=200))
    make_connection(bob, ip="192.0.2.1", port=2222)
    report = Report.objects.create(
        category=ReportCategory.THREAT,
        source=ReportSource.USER,
        reporter=bob,
        target_user=alice,
        severity=1,
        deadline=now + timedelta(hours=1),
    )
    Sanction.objects.create(kind="mute", user=alice, reason="menaces", ground="terms_violence")
    return {
        "alice": alice,
        "bob": bob,
        "room": room,
        "in_scope": in_scope,
        "too_old": too_old,
        "bobs": bobs,
        "report": report,
    }


def _export(request, actor, tmp_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return actions.do_export_legal_request(request, actor=actor, out_dir=tmp_path)


def test_requisition_from_opening_to_export(
    scene, officer, second_officer, open_request, tmp_path, django_capture_on_commit_callbacks
):
    alice = scene["alice"]
    request = open_request(accounts=[alice])

    assert request.status == LegalRequestStatus.RECEIVED
    hold = LegalHold.objects.get(request=request)
    assert hold.user == alice and hold.is_active
    (opened,) = audit_entries(AuditEvent.LEGAL_REQUEST_OPENED, target_id=str(request.pk))
    assert opened.actor_id == officer.pk
    assert opened.details["accounts"] == [alice.pk]
    assert opened.details["holds"] == [hold.pk]

    actions.do_verify_legal_request(request, actor=officer)
    actions.do_approve_legal_export(request, actor=second_officer)
    package = _export(request, officer, tmp_path, django_capture_on_commit_callbacks)

    assert package.path.exists()
    assert not list(tmp_path.glob(".export-*")), "the temporary file was moved into place"
    raw = package.path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == package.sha256
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        listed = {entry["name"]: entry for entry in manifest["files"]}
        assert set(listed) == names - {"manifest.json"}
        for name, entry in listed.items():
            content = archive.read(name)
            assert hashlib.sha256(content).hexdigest() == entry["sha256"], name
            assert len(content) == entry["bytes"]
        assert names == {
            "manifest.json",
            "request.json",
            "identity.json",
            "connections.csv",
            "messages.json",
            "moderation.json",
        }
        identity = json.loads(archive.read("identity.json"))
        connections = list(csv.DictReader(io.StringIO(archive.read("connections.csv").decode())))
        messages = json.loads(archive.read("messages.json"))
        moderation = json.loads(archive.read("moderation.json"))

    assert manifest["approved_by"] == [second_officer.pk]
    assert identity[0]["email"] == "alice@example.org"
    # Only the period's connections, with the port that identifies a user behind CGNAT.
    assert [(row["ip_address"], row["port"]) for row in connections] == [("198.51.100.23", "51515")]
    assert [message["id"] for message in messages] == [scene["in_scope"].pk]
    assert [version["body"] for version in messages[0]["versions"]] == ["rendez-vous demain"]
    assert [report["id"] for report in moderation["reports"]] == [scene["report"].pk]
    assert [sanction["kind"] for sanction in moderation["sanctions"]] == ["mute"]

    request.refresh_from_db()
    assert request.status == LegalRequestStatus.EXPORTED
    assert request.package_sha256 == package.sha256
    (exported,) = audit_entries(AuditEvent.LEGAL_REQUEST_EXPORTED, target_id=str(request.pk))
    assert exported.details["sha256"] == package.sha256
    assert exported.details["files"] == {name: entry["sha256"] for name, entry in listed.items()}
    assert exported.details["approved_by"] == [second_officer.pk]

    actions.do_answer_legal_request(request, actor=officer, note="remis par PLATEFORME PNIJ")
    request.refresh_from_db()
    assert request.status == LegalRequestStatus.ANSWERED
    assert request.answered_at is not None
    assert len(audit_entries(AuditEvent.LEGAL_REQUEST_ANSWERED, target_id=str(request.pk))) == 1


def test_export_refused_without_a_second_officer(
    scene, officer, second_officer, open_request, tmp_path, django_capture_on_commit_callbacks
):
    request = open_request(accounts=[scene["alice"]])
    actions.do_verify_legal_request(request, actor=officer)

    with pytest.raises(Refused) as refused:
        _export(request, officer, tmp_path, django_capture_on_commit_callbacks)
    assert refused.value.code == "approval_required"

    # The assigned officer cannot approve their own requisition...
    with pytest.raises(Refused) as refused:
        actions.do_approve_legal_export(request, actor=officer)
    assert refused.value.code == "same_officer"

    # ...and an approver cannot export on their approval alone.
    actions.do_approve_legal_export(request, actor=second_officer)
    with pytest.raises(Refused) as refused:
        _export(request, second_officer, tmp_path, django_capture_on_commit_callbacks)
    assert refused.value.code == "approval_required"

    assert list(tmp_path.iterdir()) == []
    request.refresh_from_db()
    assert request.status == LegalRequestStatus.VERIFIED
    assert audit_entries(AuditEvent.LEGAL_REQUEST_EXPORTED) == []
    assert len(audit_entries(AuditEvent.LEGAL_EXPORT_APPROVED)) == 1


def test_export_needs_a_verified_request(scene, second_officer, open_request, tmp_path):
    request = open_request(accounts=[scene["alice"]])
    with pytest.raises(Refused) as refused:
        actions.do_approve_legal_export(request, actor=second_officer)
    assert refused.value.code == "invalid_status"


def test_moderators_cannot_act_on_requisitions(scene, moderator, open_request):
    request = open_request(accounts=[scene["alice"]])
    with pytest.raises(Refused) as refused:
        actions.do_verify_legal_request(request, actor=moderator)
    assert refused.value.code == "forbidden"
    with pytest.raises(Refused):
        actions.do_approve_legal_export(request, actor=moderator)


def test_refusal_needs_a_reason_and_is_recorded(scene, officer, open_request):
    request = open_request(accounts=[scene["alice"]])
    with pytest.raises(Refused):
        actions.do_refuse_legal_request(request, actor=officer, reason="  ")
    actions.do_refuse_legal_request(
        request, actor=officer, reason="Compte hébergé par un autre service"
    )
    request.refresh_from_db()
    assert request.status == LegalRequestStatus.REFUSED
    (entry,) = audit_entries(AuditEvent.LEGAL_REQUEST_REFUSED)
    assert entry.reason == "Compte hébergé par un autre service"
    assert entry.details == {"status": "refused", "old": "received"}


def test_on_hold_then_verified(scene, officer, open_request):
    request = open_request(accounts=[scene["alice"]])
    actions.do_put_legal_request_on_hold(request, actor=officer, reason="Signature manquante")
    request.refresh_from_db()
    assert request.status == LegalRequestStatus.ON_HOLD
    actions.do_verify_legal_request(request, actor=officer)
    request.refresh_from_db()
    assert request.status == LegalRequestStatus.VERIFIED
    assert request.status_reason == ""


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reference": " "}, "référence"),
        ({"legal_basis": "cpp_1"}, "Fondement"),
        ({"legal_basis": "other"}, "Précisez"),
        ({"categories": ["dna"]}, "inconnue"),
    ],
)
def test_bad_requisitions_are_refused_clearly(scene, open_request, fields, message):
    with pytest.raises(Refused) as refused:
        open_request(accounts=[scene["alice"]], **fields)
    assert message in refused.value.detail


def test_period_must_be_ordered(scene, open_request):
    now = timezone.now()
    with pytest.raises(Refused):
        open_request(accounts=[scene["alice"]], period_start=now, period_end=now - timedelta(1))


def test_holds_are_placed_by_opening_and_released_with_a_reason(scene, officer, open_request):
    assert not open_request(rooms=[scene["room"]], place_holds=False).holds.exists()
    request = open_request(rooms=[scene["room"]])
    (hold,) = LegalHold.objects.filter(request=request)
    assert (hold.room, hold.placed_by, hold.is_active) == (scene["room"], officer, True)
    (opened,) = audit_entries(AuditEvent.LEGAL_REQUEST_OPENED, target_id=str(request.pk))
    assert opened.details["holds"] == [hold.pk]
    with pytest.raises(Refused):
        actions.do_release_hold(hold, actor=officer, reason="")
    actions.do_release_hold(hold, actor=officer, reason="Procédure classée")
    hold.refresh_from_db()
    assert not hold.is_active
    (released,) = audit_entries(AuditEvent.LEGAL_HOLD_RELEASED)
    assert released.reason == "Procédure classée"


def test_deadline_is_flagged_when_near(scene, open_request):
    now = timezone.now()
    near = open_request(accounts=[scene["alice"]], deadline=now + timedelta(days=1))
    far = open_request(accounts=[scene["alice"]], deadline=now + timedelta(days=20))
    assert near.deadline_is_near
    assert not far.deadline_is_near


def test_a_deleted_accounts_data_comes_from_the_restricted_store(
    scene, officer, second_officer, open_request, tmp_path, django_capture_on_commit_callbacks
):
    from accounts.actions import do_request_account_deletion
    from accounts.models import AccountDeletionRequest

    alice = scene["alice"]
    do_request_account_deletion(alice, actor=alice)  # completed at once
    assert AccountDeletionRequest.objects.get(user=alice).completed_at is not None
    alice.refresh_from_db()
    request = open_request(accounts=[alice], categories=["identity", "connections", "messages"])
    actions.do_verify_legal_request(request, actor=officer)
    actions.do_approve_legal_export(request, actor=second_officer)
    package = _export(request, officer, tmp_path, django_capture_on_commit_callbacks)

    with zipfile.ZipFile(package.path) as archive:
        assert "moderation.json" not in archive.namelist()
        identity = json.loads(archive.read("identity.json"))
        connections = list(csv.DictReader(io.StringIO(archive.read("connections.csv").decode())))
        messages = json.loads(archive.read("messages.json"))
    assert identity[0]["username"].startswith("supprime-")
    assert identity[0]["email"] == ""
    assert identity[0]["deleted_account_identity"]["email"] == "alice@example.org"
    assert identity[0]["deleted_account_data"]["username"] == "alice"
    assert [(row["ip_address"], row["port"], row["source"]) for row in connections] == [
        ("198.51.100.23", "51515", "restricted")
    ]
    # The anonymised messages are still there for the investigation.
    assert [message["body"] for message in messages] == ["rendez-vous ce soir"]


def test_a_request_naming_a_room_exports_who_had_it_open_in_the_period(
    scene, officer, second_officer, open_request, tmp_path, django_capture_on_commit_callbacks
):
    from rooms.models import PresenceInterval

    now = timezone.now()
    alice, bob, room = scene["alice"], scene["bob"], scene["room"]

    def stay(user, start, end):
        return PresenceInterval.objects.create(
            room=room, user=user, started_at=start, ended_at=end, seen_at=end or now
        )

    # (After the accounts were made: the pseudonym is the one held when the stay began.)
    stay(alice, now, now + timedelta(seconds=1))
    stay(bob, now - timedelta(days=90), now - timedelta(days=89))  # before the period
    stay(bob, now + timedelta(seconds=2), None)  # still there
    request = open_request(rooms=[room], categories=["messages"])
    actions.do_verify_legal_request(request, actor=officer)
    actions.do_approve_legal_export(request, actor=second_officer)
    package = _export(request, officer, tmp_path, django_capture_on_commit_callbacks)

    with zipfile.ZipFile(package.path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        rows = list(csv.DictReader(io.StringIO(archive.read("presence.csv").decode())))
    assert "presence.csv" in {entry["name"] for entry in manifest["files"]}
    assert [(row["room"], row["account_id"], row["pseudonym_then"]) for row in rows] == [
        ("general", str(alice.pk), "alice"),
        ("general", str(bob.pk), "bob"),
    ]
    assert rows[0]["to"] and rows[1]["to"] == ""  # bob is still in the room
    # A request naming only accounts has no presence file.
    by_account = open_request(accounts=[alice], categories=["messages"])
    actions.do_verify_legal_request(by_account, actor=officer)
    actions.do_approve_legal_export(by_account, actor=second_officer)
    (tmp_path / "other").mkdir()
    other = _export(by_account, officer, tmp_path / "other", django_capture_on_commit_callbacks)
    with zipfile.ZipFile(other.path) as archive:
        assert "presence.csv" not in archive.namelist()
