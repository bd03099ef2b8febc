"""The case file of an account (moderation/case_files.py, CaseFileAdmin) and
moderators' notes (moderation/actions/notes.py): timeline, notes with their audit
entries, the stated-reason gate, the query count, the export and the retention."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.access import REASON_FIELD
from audit.events import AuditEvent
from audit.models import LookedAtPerson
from compliance import queries as compliance_queries
from compliance.actions import do_export_own_data
from compliance.retention import expired, retention_policy
from core.refusals import Refused
from moderation import actions, case_files
from moderation.models import (
    FilterAction,
    FilterKind,
    FilterRule,
    HeldMessage,
    ModeratorNote,
    Report,
    ReportStatus,
    SafetySignal,
    SafetySignalKind,
)
from rooms import actions as room_actions
from tests.audit.conftest import entries_since, last_seq
from tests.compliance import conftest as compliance_fixtures
from tests.conftest import grant_looks, staff_client

pytestmark = pytest.mark.django_db
# The compliance tests' fixtures (a requisition needs its officer).
officer = compliance_fixtures.officer
open_request = compliance_fixtures.open_request
REASON = "Signalement 42 : vérifier les antécédents."


def _case_url(user) -> str:
    return reverse("admin:moderation_casefile_change", args=[user.pk])


def _at(obj, minutes_ago: int) -> None:
    """Puts a row at a known time, so that the order is the test's, not the clock's."""
    when = timezone.now() - timedelta(minutes=minutes_ago)
    type(obj).objects.filter(pk=obj.pk).update(created=when)


@pytest.fixture
def file_of(make_user, make_staff, make_room):
    """Mallory's file, one entry of every kind, each at a known time."""
    mallory, bob = make_user("mallory"), make_user("bob")
    moderator = make_staff("moderator")
    room = make_room(slug="place")
    message = room_actions.do_post_message(room, "tu vas voir <b>ce soir</b>", actor=mallory)
    against = actions.do_file_report(
        actor=bob, category="harassment", message=message.message, details="menace"
    )
    by = actions.do_file_report(actor=mallory, category="spam", target_user=bob, details="pub")
    FilterRule.objects.create(
        name="insultes", kind=FilterKind.WORDS, pattern="idiot", action=FilterAction.FLAG
    )
    room_actions.do_post_message(room, "espèce d'idiot", actor=mallory)
    hit = Report.objects.get(source="automatic", target_user=mallory)
    signal = SafetySignal.objects.create(
        kind=SafetySignalKind.choices[0][0], user=mallory, room=room, excerpt="extrait"
    )
    FilterRule.objects.create(
        name="liens", kind=FilterKind.LINKS, action=FilterAction.HOLD, category="spam"
    )
    with pytest.raises(Refused):
        room_actions.do_post_message(room, "https://exemple.fr", actor=mallory)
    held = HeldMessage.objects.get(author=mallory)
    sanction = actions.do_issue_sanction(mallory, actor=moderator, kind="mute", reason="Calme.")
    appeal = actions.do_file_appeal(sanction.statement, actor=mallory, text="Injuste.")
    note = actions.do_add_moderator_note(mallory, "Déjà averti <script>x</script>", actor=moderator)
    order = [note, held, appeal, sanction.statement, sanction, signal, hit, by, against]
    for minutes, obj in enumerate(order, start=1):
        _at(obj, minutes * 10)
    return {
        "mallory": mallory,
        "bob": bob,
        "moderator": moderator,
        "order": order,
        "note": note,
    }


def test_the_timeline_holds_every_kind_newest_first(file_of):
    page = case_files.case_file_page(file_of["mallory"].pk)
    shown = [(entry.kind.code, entry.obj.pk) for entry in page.entries]
    assert shown == [
        ("note", file_of["order"][0].pk),
        ("held_message", file_of["order"][1].pk),
        ("appeal", file_of["order"][2].pk),
        ("statement", file_of["order"][3].pk),
        ("sanction", file_of["order"][4].pk),
        ("safety_signal", file_of["order"][5].pk),
        ("filter_hit", file_of["order"][6].pk),
        ("report_by", file_of["order"][7].pk),
        ("report_against", file_of["order"][8].pk),
    ]
    assert page.total == 9
    # Bob's file has the report against him and the one he made, nothing of Mallory's.
    bobs = case_files.case_file_page(file_of["bob"].pk)
    assert [e.kind.code for e in bobs.entries] == ["report_against", "report_by"]


def test_the_timeline_is_paged(file_of):
    first = case_files.case_file_page(file_of["mallory"].pk, 1, page_size=4)
    second = case_files.case_file_page(file_of["mallory"].pk, 2, page_size=4)
    last = case_files.case_file_page(file_of["mallory"].pk, 99, page_size=4)
    assert (first.pages, first.has_next, first.has_previous) == (3, True, False)
    assert [e.obj for e in first.entries] == file_of["order"][:4]
    assert [e.obj for e in second.entries] == file_of["order"][4:8]
    assert last.page == 3 and [e.obj for e in last.entries] == file_of["order"][8:]


def test_the_page_asks_a_reason_then_shows_escaped_entries_and_records_the_look(file_of):
    moderator, mallory = file_of["moderator"], file_of["mallory"]
    client = staff_client(moderator)
    before = last_seq()
    refused = client.get(_case_url(mallory))
    assert refused.status_code == 403
    assert f'name="{REASON_FIELD}"' in refused.text and "Déjà averti" not in refused.text
    assert entries_since(before) == []
    # A reason too short is refused too.
    assert client.post(_case_url(mallory), {REASON_FIELD: "vu"}).status_code == 403
    assert client.post(_case_url(mallory), {REASON_FIELD: REASON}).status_code == 302
    page = client.get(_case_url(mallory))
    assert page.status_code == 200
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text and "<script>x" not in page.text
    for obj in file_of["order"]:
        assert f"#{obj.pk}<" in page.text
    assert reverse("admin:moderation_report_change", args=[file_of["order"][8].pk]) in page.text
    assert reverse("admin:moderation_moderatornote_change", args=[file_of["note"].pk]) in page.text
    [look] = entries_since(before)
    assert look.event == AuditEvent.VIEW_CASE_FILE
    assert (look.actor_id, look.reason) == (moderator.pk, REASON)
    assert (look.target_type, look.target_id) == ("accounts.user", str(mallory.pk))
    people = set(LookedAtPerson.objects.filter(seq=look.seq).values_list("person_id", flat=True))
    assert {mallory.pk, file_of["bob"].pk} <= people
    # The reason covers this account only: another's file asks again.
    assert client.get(_case_url(file_of["bob"])).status_code == 403


def test_a_note_from_the_case_file_is_audited_with_its_text_erasable(file_of, make_user):
    moderator, mallory = file_of["moderator"], file_of["mallory"]
    client = grant_looks(staff_client(moderator), ("moderation.casefile", mallory.pk))
    before = last_seq()
    answer = client.post(_case_url(mallory), {"body": "  Parle de <i>rendez-vous</i>.  "})
    assert answer.status_code == 302
    note = ModeratorNote.objects.latest("pk")
    assert (note.subject, note.author, note.body) == (
        mallory,
        moderator,
        "Parle de <i>rendez-vous</i>.",
    )
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.MODERATOR_NOTE_ADDED
    assert (entry.actor_id, entry.target_id) == (moderator.pk, str(note.pk))
    assert entry.details == {"subject": mallory.pk, "length": len(note.body)}
    assert entry.personal_details == {"body": note.body}  # erasable, never sealed
    assert "rendez-vous" not in str(entry.details)
    # Empty: refused, nothing written.
    before = last_seq()
    assert client.post(_case_url(mallory), {"body": "   "}).status_code == 200
    assert AuditEvent.MODERATOR_NOTE_ADDED not in [e.event for e in entries_since(before)]


def test_editing_a_note_keeps_the_old_text_in_the_trail(file_of):
    moderator, note = file_of["moderator"], file_of["note"]
    other = staff_client(moderator)
    grant_looks(other, "moderation.moderatornote")
    url = reverse("admin:moderation_moderatornote_change", args=[note.pk])
    assert "Déjà averti" in other.get(url).text
    before = last_seq()
    assert other.post(url, {"body": "Averti le 3 mai."}).status_code == 302
    note.refresh_from_db()
    assert (note.body, note.updated_by) == ("Averti le 3 mai.", moderator)
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.MODERATOR_NOTE_EDITED
    assert entry.personal_details == {
        "old": "Déjà averti <script>x</script>",
        "new": "Averti le 3 mai.",
    }


def test_notes_are_for_moderators_only(file_of, make_user, make_staff):
    mallory = file_of["mallory"]
    with pytest.raises(Refused):
        actions.do_add_moderator_note(mallory, "x", actor=make_user("curieux"))
    # A compliance officer reads the file, but writes no note.
    officer = grant_looks(
        staff_client(make_staff("compliance")), ("moderation.casefile", mallory.pk)
    )
    page = officer.get(_case_url(mallory))
    assert page.status_code == 200 and 'name="body"' not in page.text
    assert officer.post(_case_url(mallory), {"body": "x"}).status_code == 403
    # A member never reaches the admin.
    member = staff_client(make_user("membre"), otp_verified=False)
    assert member.get(_case_url(mallory)).status_code == 302


def test_the_query_count_does_not_grow_with_the_file(file_of, make_user):
    moderator, mallory = file_of["moderator"], file_of["mallory"]
    client = grant_looks(staff_client(moderator), ("moderation.casefile", mallory.pk))
    client.get(_case_url(mallory))  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as small:
        assert client.get(_case_url(mallory)).status_code == 200
    bob = file_of["bob"]
    for number in range(40):
        actions.do_add_moderator_note(mallory, f"note {number}", actor=moderator)
        actions.do_file_report(actor=make_user(), category="spam", target_user=mallory, details="x")
    SafetySignal.objects.bulk_create(
        SafetySignal(kind=SafetySignalKind.choices[0][0], user=mallory) for _ in range(40)
    )
    # Older than the first nine: the first page still shows every kind, and more rows.
    old = timezone.now() - timedelta(days=2)
    kept = [obj.pk for obj in file_of["order"] if isinstance(obj, (ModeratorNote, Report))]
    ModeratorNote.objects.filter(subject=mallory).exclude(pk__in=kept).update(created=old)
    Report.objects.filter(target_user=mallory).exclude(pk__in=kept).update(created=old)
    SafetySignal.objects.filter(user=mallory).exclude(pk=file_of["order"][5].pk).update(created=old)
    assert bob is not None
    with CaptureQueriesContext(connection) as large:
        page = client.get(_case_url(mallory))
    assert page.status_code == 200 and "page 1 sur 3" in page.text
    shown = [q["sql"][:90] for q in large.captured_queries]
    assert len(large.captured_queries) == len(small.captured_queries), shown


def test_the_access_request_gives_the_notes_unless_an_investigation_is_open(file_of):
    mallory, note = file_of["mallory"], file_of["note"]
    # A report against Mallory is still open: the notes are held back (Art. 23).
    assert Report.objects.filter(target_user=mallory, status__in=["open", "claimed"]).exists()
    before = last_seq()
    data = do_export_own_data(mallory, actor=mallory)
    assert data["moderator_notes"] == []
    [entry] = entries_since(before)
    assert entry.details["moderator_notes_withheld"] == 1
    Report.objects.filter(target_user=mallory).update(status=ReportStatus.DISMISSED)
    data = do_export_own_data(mallory, actor=mallory)
    assert [row["text"] for row in data["moderator_notes"]] == [note.body]
    assert "author" not in data["moderator_notes"][0]
    assert not compliance_queries.moderator_notes_restricted(mallory)


def test_a_requisition_naming_the_account_withholds_the_notes(file_of, open_request):
    mallory = file_of["mallory"]
    Report.objects.filter(target_user=mallory).update(status=ReportStatus.DISMISSED)
    open_request(accounts=[mallory])
    assert compliance_queries.moderator_notes_restricted(mallory)
    assert do_export_own_data(mallory, actor=mallory)["moderator_notes"] == []


def test_the_api_export_carries_the_notes(file_of):
    from django.test import Client

    mallory = file_of["mallory"]
    Report.objects.filter(target_user=mallory).update(status=ReportStatus.DISMISSED)
    client = Client()
    client.force_login(mallory)
    body = client.get("/api/me/export/").json()
    assert [row["text"] for row in body["moderator_notes"]] == [file_of["note"].body]


def test_notes_are_kept_a_year_after_their_last_edit_and_while_a_case_is_open(file_of):
    mallory, note = file_of["mallory"], file_of["note"]
    policy = retention_policy()
    later = timezone.now() + policy.moderator_notes + timedelta(days=1)

    def due(now, held=frozenset()):
        return set(expired("moderator_notes", policy, now, held_users=set(held), held_rooms=set()))

    assert due(timezone.now()) == set()
    # The report against Mallory is open: the note stays with its case.
    assert due(later) == set()
    Report.objects.filter(target_user=mallory).update(status=ReportStatus.DISMISSED)
    from moderation.models import Appeal

    Appeal.objects.filter(appellant=mallory).update(status="upheld")
    assert due(later) == {note}
    assert due(later, held={mallory.pk}) == set()  # a legal hold keeps it
    removed = actions.do_forget_moderation_records(
        "moderator_notes", [note.pk], actor=None, reason="purge"
    )
    assert removed == 1 and not ModeratorNote.objects.filter(pk=note.pk).exists()
