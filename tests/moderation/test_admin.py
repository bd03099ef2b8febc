"""The moderators' admin: the queue, decisions, sanctions, appeals, held messages."""

import pytest

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import Refused
from moderation import actions
from moderation.models import (
    Appeal,
    AppealStatus,
    FilterAction,
    FilterKind,
    FilterRule,
    HeldMessage,
    HeldStatus,
    Report,
    ReportStatus,
    Sanction,
    ThreatEscalation,
)
from rooms.models import Message
from tests.conftest import grant_model_looks
from tests.moderation.conftest import post_message, verified_client

pytestmark = pytest.mark.django_db

QUEUE = "/admin/moderation/report/"


@pytest.fixture
def client_(moderator):
    # The queue and the lists are gated model-wide (tests/audit/test_looks.py tests
    # that); the per-report and per-escalation gates still ask here.
    return grant_model_looks(verified_client(moderator))


def file(room, make_user, category, *, reporters=1, body="texte"):
    message = post_message(room, make_user(), body)
    first = None
    for _number in range(reporters):
        report = actions.do_file_report(actor=make_user(), category=category, message=message)
        first = first or report
    return first


def test_the_queue_lists_one_row_per_item_most_severe_first(client_, room, make_user):
    spam = file(room, make_user, "spam", body="pub")
    child = file(room, make_user, "child_safety", body="âge ?")
    hate = file(room, make_user, "hate", reporters=3, body="haine")
    response = client_.get(QUEUE)
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows == [child, hate, spam]
    page = response.content.decode()
    assert 'data-count="open">3<' in page and 'data-count="urgent">1<' in page


def test_the_queue_needs_a_verified_second_factor(client, moderator):
    client.force_login(moderator)
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_deciding_a_report_bans_the_author_from_the_admin(client_, room, make_user, moderator):
    report = file(room, make_user, "harassment", reporters=2)
    author = report.target_user
    page = client_.get(f"{QUEUE}{report.pk}/decide/")
    assert page.status_code == 200
    assert "texte" in page.content.decode()  # the context snapshot
    # The moderator picks the rule from the numbered list.
    assert '<option value="R6">R6 · Pas de divulgation' in page.content.decode()
    response = client_.post(
        f"{QUEUE}{report.pk}/decide/",
        {
            "outcome": "remove_ban",
            "site_wide": "on",
            "duration_minutes": "",
            "ground": "terms_harassment",
            "clause": "R6",
            "reason": "Harcèlement de plusieurs membres.",
        },
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.ACTIONED and report.decided_by == moderator
    assert report.clause == "R6"
    ban = Sanction.objects.get(user=author)
    assert ban.kind == "ban" and ban.room is None and ban.ends_at is None
    assert ban.clause == "R6" and ban.ground == "terms_harassment"
    assert Message.objects.get(pk=report.target_message_id).deleted_at is not None
    assert AuditEntry.objects.filter(event=AuditEvent.REPORT_ACTIONED).exists()


def test_a_decision_without_a_reason_is_refused(client_, room, make_user):
    report = file(room, make_user, "spam")
    response = client_.post(f"{QUEUE}{report.pk}/decide/", {"outcome": "warn", "reason": ""})
    assert response.status_code == 200
    assert response.context["form"].errors
    report.refresh_from_db()
    assert report.is_open


def test_bulk_claim_and_dismiss_go_through_a_confirmation(client_, room, make_user, moderator):
    first, second = file(room, make_user, "spam"), file(room, make_user, "other")
    response = client_.post(
        QUEUE, {"action": "bulk_claim", "_selected_action": [first.pk, second.pk]}
    )
    assert response.status_code == 302
    confirm = client_.get(response["Location"])
    assert confirm.status_code == 200
    ids = f"{first.pk},{second.pk}"
    client_.post(f"{QUEUE}bulk/claim/", {"ids": ids})
    assert set(Report.objects.values_list("claimed_by", flat=True)) == {moderator.pk}
    client_.post(f"{QUEUE}bulk/dismiss/", {"ids": ids})  # no reason: nothing happens
    assert Report.objects.filter(status=ReportStatus.CLAIMED).count() == 2
    client_.post(f"{QUEUE}bulk/dismiss/", {"ids": ids, "reason": "Rien d'illicite."})
    assert Report.objects.filter(status=ReportStatus.DISMISSED).count() == 2
    assert AuditEntry.objects.filter(event=AuditEvent.REPORT_DISMISSED).count() == 2


def test_the_sanction_form(client_, room, make_user, moderator):
    target = make_user("cible")
    assert client_.get("/admin/moderation/sanction/add/").status_code == 200
    response = client_.post(
        "/admin/moderation/sanction/add/",
        {
            "user": "cible",
            "kind": "mute",
            "room": room.pk,
            "duration_minutes": "30",
            "ground": "terms_spam",
            "reason": "Flood.",
        },
    )
    assert response.status_code == 302
    mute = Sanction.objects.get(user=target)
    assert mute.room == room and mute.issued_by == moderator
    assert mute.clause == "R10"  # left empty: the ground's usual rule
    missing = client_.post(
        "/admin/moderation/sanction/add/",
        {"user": "personne", "kind": "ban", "ground": "terms_spam", "reason": "r"},
    )
    assert "Utilisateur introuvable" in missing.content.decode()


def test_an_appeal_in_the_admin_is_refused_to_the_decider(
    client_, make_user, moderator, other_moderator
):
    user = make_user()
    ban = actions.do_issue_sanction(user, actor=moderator, kind="ban", reason="Spam.")
    appeal = actions.do_file_appeal(ban.statement, actor=user, text="Erreur.")
    url = f"/admin/moderation/appeal/{appeal.pk}/change/"
    response = client_.post(url, {"reverse_decision": "1", "answer": "Je me déjuge."})
    assert "un autre modérateur" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.OPEN
    grant_model_looks(verified_client(other_moderator)).post(
        url, {"reverse_decision": "0", "answer": "Confirmé."}
    )
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD
    assert Appeal.objects.get().decided_by == other_moderator


def test_held_messages_are_released_from_the_admin(client_, room, make_user):
    from rooms import actions as room_actions

    FilterRule.objects.create(name="liens", kind=FilterKind.LINKS, action=FilterAction.HOLD)
    with pytest.raises(Refused):
        room_actions.do_post_message(room, "https://exemple.fr", actor=make_user())
    held = HeldMessage.objects.get()
    assert client_.get("/admin/moderation/heldmessage/").status_code == 200
    client_.post("/admin/moderation/heldmessage/bulk/release/", {"ids": str(held.pk)})
    held.refresh_from_db()
    assert held.status == HeldStatus.RELEASED
    assert Message.objects.get(pk=held.message_id).body == "https://exemple.fr"


def test_a_direct_conversation_report_asks_why_it_is_opened(client_, make_user):
    from rooms import actions as room_actions

    victim, stranger = make_user(), make_user()
    direct = room_actions.do_open_direct_room(victim, actor=stranger)
    post_message(direct, stranger, "viens seule")
    report = actions.do_file_alert(direct, actor=victim)
    url = f"{QUEUE}{report.pk}/decide/"
    gate = client_.get(url)
    assert gate.status_code == 403
    assert "viens seule" not in gate.content.decode()
    client_.post(url, {"access_reason": "Traitement d'une alerte urgente."})
    assert "viens seule" in client_.get(url).content.decode()
    assert AuditEntry.objects.filter(event=AuditEvent.VIEW_DIRECT_CONVERSATION).exists()


def test_admin_pages_render(client_, room, make_user):
    report = file(room, make_user, "threat")
    actions.do_escalate_threat(report, actor=None)
    for url in (
        "/admin/moderation/sanction/",
        "/admin/moderation/appeal/",
        "/admin/moderation/filterrule/",
        "/admin/moderation/filterrule/add/",
        "/admin/moderation/notice/",
        "/admin/moderation/safetysignal/",
        "/admin/moderation/statementofreasons/",
        "/admin/moderation/moderationrecord/",
        "/admin/moderation/trustedflagger/",
        "/admin/moderation/threatescalation/",
        f"{QUEUE}?etat=all",
    ):
        assert client_.get(url).status_code == 200, url


def test_an_escalation_page_asks_why_then_records_the_transmission(client_, room, make_user):
    report = file(room, make_user, "threat")
    escalation = actions.do_escalate_threat(report, actor=None)
    url = f"/admin/moderation/threatescalation/{escalation.pk}/change/"
    assert client_.get(url).status_code == 403
    client_.post(url, {"access_reason": "Menace de mort, transmission à PHAROS."})
    page = client_.get(url)
    assert page.status_code == 200 and "internet-signalement" in page.content.decode()
    client_.post(url, {"authority": "police", "reference": "PV-2026-1", "items": ["message"]})
    escalation.refresh_from_db()
    assert escalation.transmitted_at is not None and escalation.authority == "police"
    assert escalation.transmitted_content["items"] == ["message"]
    assert AuditEntry.objects.filter(event=AuditEvent.ESCALATION_TRANSMITTED).exists()


def test_a_child_safety_decision_prompts_the_pharos_report(client_, room, make_user, moderator):
    report = file(room, make_user, "child_safety", body="j'ai 13 ans")
    url = f"{QUEUE}{report.pk}/decide/"
    page = client_.get(url).content.decode()
    assert "PHAROS" in page  # said before deciding
    response = client_.post(
        url,
        {
            "outcome": "remove_ban",
            "ground": "terms_minors",
            "reason": "Contenu sexuel impliquant un mineur.",
            "site_wide": "on",
        },
    )
    escalation = ThreatEscalation.objects.get(report=report)
    assert escalation.reason == "child_safety" and escalation.is_pending
    target = f"/admin/moderation/threatescalation/{escalation.pk}/change/"
    assert response.status_code == 302 and response.url == target
    client_.post(target, {"access_reason": f"Signalement PHAROS du cas #{report.pk}."})
    page = client_.get(target).content.decode()
    assert "https://www.internet-signalement.gouv.fr/PharosS1/" in page
    assert "j&#x27;ai 13 ans" in page  # the prepared message
    # PHAROS without its number or category: refused by the form, nothing recorded.
    refused = client_.post(target, {"authority": "pharos", "items": ["message"]})
    assert refused.status_code == 200
    escalation.refresh_from_db()
    assert escalation.is_pending
    client_.post(
        target,
        {
            "authority": "pharos",
            "reference": "PHAROS-77",
            "category": "minors_sexual",
            "items": ["message", "context", "suspect_account", "connections"],
            "summary": "Adulte sollicitant une mineure de 13 ans.",
        },
    )
    escalation.refresh_from_db()
    assert escalation.authority_reference == "PHAROS-77" and not escalation.is_pending
    assert escalation.transmitted_by == moderator
    # Visible on the case.
    case = client_.get(url).content.decode()
    assert "PHAROS-77" in case and "protection des mineurs" in case
    assert AuditEntry.objects.filter(event=AuditEvent.ESCALATION_TRANSMITTED).count() == 1


def test_an_escalation_can_be_declined_from_its_page(client_, room, make_user, moderator):
    report = file(room, make_user, "child_safety", body="je suis en 4e")
    actions.do_decide_report(report, actor=moderator, decision="Compte fermé.", sanction_kind="ban")
    escalation = ThreatEscalation.objects.get(report=report)
    target = f"/admin/moderation/threatescalation/{escalation.pk}/change/"
    client_.post(target, {"access_reason": "Décider de la transmission."})
    client_.post(target, {"decline_reason": "Mineur seul, aucun adulte en cause."})
    escalation.refresh_from_db()
    assert escalation.declined_by == moderator
    assert "non transmis" in client_.get(f"{QUEUE}{report.pk}/decide/").content.decode()
    assert AuditEntry.objects.filter(event=AuditEvent.ESCALATION_DECLINED).count() == 1


# --- Art. 23 measures ---------------------------------------------------------------------------


def _misuse(user, kind, *, days_ago: int, ends_in: int | None = None):
    from datetime import timedelta

    from django.utils import timezone

    from moderation.models import MisuseMeasure

    created = timezone.now() - timedelta(days=days_ago)
    return MisuseMeasure.objects.create(
        kind=kind,
        user=user,
        created=created,
        ends_at=None if ends_in is None else timezone.now() + timedelta(days=ends_in),
        figures={"decided_reports": 12, "manifestly_unfounded": 9, "window_days": 90},
    )


def test_art23_measures_are_listed_filtered_and_shown_behind_a_reason(room, make_user, moderator):
    from moderation.models import MisuseStep

    warned, suspended, lapsed = make_user("averti"), make_user("suspendu"), make_user("ancien")
    warning = _misuse(warned, MisuseStep.NOTIFIER_WARNING, days_ago=3)
    suspension = _misuse(suspended, MisuseStep.NOTIFIER_SUSPENSION, days_ago=1, ends_in=29)
    old = _misuse(lapsed, MisuseStep.NOTIFIER_WARNING, days_ago=200)
    client = verified_client(moderator)
    url = "/admin/moderation/misusemeasure/"

    # Personal data: a stated reason first, nothing shown before it.
    gate = client.get(url)
    assert gate.status_code == 403 and "averti" not in gate.content.decode()
    assert client.post(url, {"access_reason": "Revue des suspensions."}).status_code == 302
    listed = client.get(url)
    assert listed.status_code == 200
    assert set(listed.context["cl"].result_list) == {warning, suspension, old}
    in_force = client.get(url, {"en_vigueur": "1"})
    assert set(in_force.context["cl"].result_list) == {warning, suspension}
    assert list(client.get(url, {"en_vigueur": "0"}).context["cl"].result_list) == [old]
    by_kind = client.get(url, {"kind__exact": MisuseStep.NOTIFIER_SUSPENSION})
    assert list(by_kind.context["cl"].result_list) == [suspension]
    assert list(client.get(url, {"q": "averti"}).context["cl"].result_list) == [warning]

    detail = client.get(f"{url}{suspension.pk}/change/").content.decode()
    assert "suspendu" in detail
    assert "signalements examinés dans la période" in detail and "<td>12</td>" in detail
    # Read-only: written by the procedure only.
    assert client.get(f"{url}add/").status_code == 403
    looks = AuditEntry.objects.filter(
        event=AuditEvent.VIEW_PERSONAL_DATA, target_type="moderation.misusemeasure"
    )
    assert looks.count() == 6  # the list, three filters, a search, the detail
    assert {entry.reason for entry in looks} == {"Revue des suspensions."}
