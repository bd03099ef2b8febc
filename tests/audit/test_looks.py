"""Every staff look at personal data in the admin: a stated reason first, an entry always.

The walk is built from the admin site's registry: every registered ModelAdmin,
every named URL it serves (its list, a search, an object's pages, its custom
views). A model added tomorrow is walked too, and fails here until it is
declared as holding no personal data or its pages are gated and recorded.
"""

from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import URLPattern, reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import (
    AccountDeletionRequest,
    AgeVerificationAttempt,
    ConnectionRecord,
    IdentityDocument,
)
from accounts.sessions import verify_second_factor
from audit.access import REASON_FIELD
from audit.actions import do_record_staff_access
from audit.events import AuditEvent
from audit.looks import LookPolicy, policy_of
from audit.models import LookedAtPerson
from compliance.models import LegalHold, PublishedTransparencyReport, RestrictedRecord
from core.refusals import Refused
from moderation import actions as moderation_actions
from moderation.models import (
    FilterAction,
    FilterKind,
    FilterRule,
    MisuseMeasure,
    MisuseStep,
    Notice,
    Report,
    SafetySignal,
    TrustedFlagger,
)
from rooms import actions as room_actions
from rooms.models import Block, ContactRequest, RoomInvitation, RoomKind, RoomMembership
from tests.audit.conftest import entries_since, last_seq
from tests.compliance import conftest as compliance_fixtures
from tests.conftest import staff_client

pytestmark = pytest.mark.django_db
# The compliance tests' fixtures (a requisition needs its officer).
officer = compliance_fixtures.officer
open_request = compliance_fixtures.open_request

REASON = "Contrôle de conformité CNIL 2026-04"
# URL keyword arguments naming another model's row, and where to find one.
ROW_KWARGS = {"hold_id": LegalHold, "deletion_id": AccountDeletionRequest}
# Verbs of custom views (`<str:verb>`): a real one, so the view is what answers.
VERBS = {"compliance_legalrequest_step": "verify"}


@pytest.fixture
def scenario(make_user, make_room, make_staff, settings, officer, open_request):
    """One row at least of every registered model, private content included."""
    settings.MESSAGE_RATE_LIMIT = "off"
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    moderator = make_staff("moderator")
    public = make_room(RoomKind.PUBLIC, slug="place")
    room_actions.do_post_message(public, "bonjour à tous", actor=alice)
    private = make_room(RoomKind.PRIVATE, owner=alice, slug="cercle")
    secret = room_actions.do_post_message(private, "secret du cercle", actor=alice).message
    RoomMembership.objects.create(room=private, user=bob)
    direct = room_actions.do_open_direct_room(bob, actor=alice)
    room_actions.do_accept_contact_request(ContactRequest.objects.get(room=direct), actor=bob)
    room_actions.do_post_message(direct, "rien que nous deux", actor=alice)
    report = moderation_actions.do_file_report(actor=bob, category="harassment", message=secret)
    moderation_actions.do_escalate_threat(report, actor=None)
    ban = moderation_actions.do_issue_sanction(carol, actor=moderator, kind="ban", reason="Spam.")
    moderation_actions.do_file_appeal(ban.statement, actor=carol, text="Erreur.")
    moderation_actions.do_add_moderator_note(carol, "Spam en série.", actor=moderator)
    # A DSA Art. 23 step, as the procedure records it (moderation/actions/misuse.py).
    MisuseMeasure.objects.create(
        kind=MisuseStep.PROVIDER_WARNING,
        user=carol,
        statement=ban.statement,
        figures={"illegal_contents": 3, "window_days": 180, "threshold": 3},
    )
    # A room moderator's measure (moderation/actions/room_moderators.py): the private
    # room's owner, verified by a second factor, hides bob's message there.
    said = room_actions.do_post_message(private, "hors sujet", actor=bob).message
    TOTPDevice.objects.create(user=alice, name="default", confirmed=True)
    moderation_actions.do_hide_message_as_room_moderator(
        said,
        actor=verify_second_factor(
            alice, {DEVICE_ID_SESSION_KEY: TOTPDevice.objects.get(user=alice).persistent_id}
        ),
        room=private,
        reason="Hors sujet.",
    )
    FilterRule.objects.create(name="liens", kind=FilterKind.LINKS, action=FilterAction.HOLD)
    with pytest.raises(Refused):  # held for review
        room_actions.do_post_message(public, "https://exemple.fr", actor=bob)
    moderation_actions.do_start_raid_mode(actor=moderator, room=public, reason="Vague d'arrivées.")
    Notice.objects.create(
        category="hate", explanation="x", location="https://exemple.fr/x", good_faith=True
    )
    SafetySignal.objects.create(kind=SafetySignal._meta.get_field("kind").choices[0][0], user=bob)
    TrustedFlagger.objects.create(user=carol, organisation="Association")
    Block.objects.create(blocker=bob, blocked=carol)
    RoomInvitation.objects.create(room=private, invitee=carol, invited_by=alice)
    ConnectionRecord.objects.create(user=alice, kind="login", ip_address="192.0.2.1", port=4242)
    AgeVerificationAttempt.objects.create(user=alice, method="document", outcome="submitted")
    AccountDeletionRequest.objects.create(user=carol)
    IdentityDocument.objects.create(user=bob, content_type="image/png", size=10)
    open_request(accounts=[alice])
    RestrictedRecord.objects.create(
        category=RestrictedRecord._meta.get_field("category").choices[0][0],
        user=alice,
        occurred_at=timezone.now(),
        retain_until=timezone.now() + timedelta(days=365),
    )
    # Aggregate figures, but it names the officer who published them: gated too.
    PublishedTransparencyReport.objects.create(
        period_start=date(2026, 1, 1),
        period_end=date(2026, 6, 30),
        figures_json="{}",
        published_by=officer,
    )
    do_record_staff_access(
        AuditEvent.VIEW_ACCOUNT_DETAILS,
        actor=officer,
        target_type="accounts.user",
        target_id=alice.pk,
        reason="préparation",
        ip_address=None,
        people=[alice.pk],
    )
    return {"alice": alice, "bob": bob, "private": private, "direct": direct}


def _admin_urls(model_admin, model):
    """Every named URL of a ModelAdmin, with a real row wherever one is named."""
    obj = model._default_manager.order_by("pk").first()
    urls = []
    for pattern in model_admin.urls:
        if not isinstance(pattern, URLPattern) or not pattern.name or pattern.name.endswith("_add"):
            continue
        kwargs = {}
        for name in pattern.pattern.converters:
            if name in ("object_id", "pk", "id", "document_id"):
                kwargs[name] = obj.pk
            elif name in ROW_KWARGS:
                kwargs[name] = ROW_KWARGS[name]._default_manager.order_by("pk").first().pk
            elif name == "verb":
                bulk = getattr(model_admin, "bulk_actions", None)
                kwargs[name] = next(iter(bulk)) if bulk else VERBS[pattern.name]
        urls.append((pattern.name, reverse(f"admin:{pattern.name}", kwargs=kwargs)))
        if pattern.name.endswith("_changelist"):
            urls.append((f"{pattern.name} (search)", urls[-1][1] + "?q=alice"))
    return urls


def _stating_until_shown(client, url):
    """GET; on a reason form, state a reason and GET again (a report about a private
    room asks once for the queue, once for itself)."""
    for _attempt in range(3):
        response = client.get(url)
        if response.status_code != 403 or f'name="{REASON_FIELD}"' not in response.text:
            return response
        stated = client.post(url, {REASON_FIELD: REASON})
        assert stated.status_code == 302, url
    raise AssertionError(f"{url}: still asking for a reason")


def test_every_admin_page_with_personal_data_asks_a_reason_then_records_the_look(
    scenario, make_staff
):
    administrator = make_staff("admin")
    walked = 0
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        policy = policy_of(model_admin)
        if policy == LookPolicy.NO_PERSONAL_DATA:
            continue
        assert model._default_manager.exists(), f"{label}: the scenario needs a row of it"
        if policy == LookPolicy.PUBLIC_CONTENT:
            # The documented line: only what every member can read, never private rooms'.
            shown = model_admin.get_queryset(None).values_list("room__kind", flat=True)
            assert set(shown) == {RoomKind.PUBLIC}, label
            continue
        for name, url in _admin_urls(model_admin, model):
            client = staff_client(administrator)  # no reason stated yet
            before = last_seq()
            refused = client.get(url)
            assert refused.status_code == 403, (name, url, refused.status_code)
            assert f'name="{REASON_FIELD}"' in refused.text, name
            for private_text in ("secret du cercle", "rien que nous deux", "192.0.2.1"):
                assert private_text not in refused.text, name
            assert entries_since(before) == [], name

            response = _stating_until_shown(client, url)
            assert response.status_code < 500, name
            mine = [e for e in entries_since(before) if e.actor_id == administrator.pk]
            looks = [e for e in mine if e.event != AuditEvent.STAFF_ATTEMPT_REFUSED]
            if response.status_code == 403:
                # Past the reason, the page itself refused (no permission to delete
                # an audit entry...): a refused staff attempt, recorded once.
                assert [e.event for e in mine] == [AuditEvent.STAFF_ATTEMPT_REFUSED], name
            if 200 <= response.status_code < 300:
                # Shown: one entry for this look, with the reason (an export also
                # records itself, as its own look).
                assert len(looks) == 1, (name, [e.event for e in looks])
                [look] = looks
                assert look.reason == REASON, name
            else:
                assert looks == [], name  # a POST-only view: nothing shown, nothing recorded
            walked += 1
    assert walked > 60


def test_declared_exemptions_are_the_only_ungated_models():
    ungated = {
        model._meta.label_lower: policy_of(model_admin)
        for model, model_admin in admin.site._registry.items()
        if policy_of(model_admin) in (LookPolicy.NO_PERSONAL_DATA, LookPolicy.PUBLIC_CONTENT)
    }
    assert ungated == {
        "auth.group": LookPolicy.NO_PERSONAL_DATA,
        "moderation.filterrule": LookPolicy.NO_PERSONAL_DATA,
        "moderation.raidmode": LookPolicy.NO_PERSONAL_DATA,
        "rooms.message": LookPolicy.PUBLIC_CONTENT,
    }
    assert Group in admin.site._registry


def test_a_private_room_search_records_who_and_which_rooms_it_showed(scenario, make_staff):
    moderator = make_staff("moderator")
    client = staff_client(moderator)
    url = reverse("admin:rooms_privateroommessage_changelist")
    client.post(url, {REASON_FIELD: REASON})
    before = last_seq()
    page = client.get(url, {"q": "secret"})
    assert page.status_code == 200
    assert "secret du cercle" in page.text
    [look] = entries_since(before)
    assert look.event == AuditEvent.VIEW_PRIVATE_ROOM_MESSAGES
    assert (look.actor_id, look.reason) == (moderator.pk, REASON)
    assert look.details["people"] == [scenario["alice"].pk]
    assert look.details["rooms"] == [scenario["private"].pk]
    assert look.personal_details["search"] == "secret"  # erasable, not sealed
    assert list(
        LookedAtPerson.objects.filter(seq=look.seq).values_list("person_id", flat=True)
    ) == [scenario["alice"].pk]
    # The public list never shows it, and asks nothing.
    public = client.get(reverse("admin:rooms_message_changelist"))
    assert public.status_code == 200
    assert "secret du cercle" not in public.text and "bonjour à tous" in public.text


def test_a_report_about_a_private_room_asks_for_its_own_reason(scenario, make_staff):
    moderator = make_staff("moderator")
    client = staff_client(moderator)
    queue = reverse("admin:moderation_report_changelist")
    client.post(queue, {REASON_FIELD: "Traitement de la file du jour."})
    assert client.get(queue).status_code == 200
    report = Report.objects.get(room=scenario["private"])
    url = reverse("admin:moderation_report_decide", args=[report.pk])
    gate = client.get(url)
    assert gate.status_code == 403 and "secret du cercle" not in gate.text
    client.post(url, {REASON_FIELD: "Signalement 12 : harcèlement."})
    before = last_seq()
    assert "secret du cercle" in client.get(url).text
    [look] = entries_since(before)
    assert look.event == AuditEvent.VIEW_PRIVATE_ROOM_MESSAGES
    assert (look.target_type, look.target_id) == ("moderation.report", str(report.pk))
    assert look.reason == "Signalement 12 : harcèlement."
    assert scenario["bob"].pk in look.details["people"]  # the reporter, shown


def test_a_page_quoting_a_private_conversation_counts_as_a_look_at_it(scenario, make_staff):
    signal = SafetySignal.objects.create(
        kind=SafetySignal._meta.get_field("kind").choices[0][0],
        user=scenario["alice"],
        room=scenario["direct"],
        excerpt="rien que nous deux",
    )
    client = staff_client(make_staff("moderator"))
    listing = reverse("admin:moderation_safetysignal_changelist")
    client.post(listing, {REASON_FIELD: REASON})
    before = last_seq()
    page = client.get(reverse("admin:moderation_safetysignal_change", args=[signal.pk]))
    assert "rien que nous deux" in page.text
    [look] = entries_since(before)
    # Counted toward the rate alert as a look at a direct conversation.
    assert look.event == AuditEvent.VIEW_DIRECT_CONVERSATION
    assert look.details["rooms"] == [scenario["direct"].pk]
    # A page of public content only keeps the model's own event.
    public = SafetySignal.objects.exclude(pk=signal.pk).get()
    before = last_seq()
    client.get(reverse("admin:moderation_safetysignal_change", args=[public.pk]))
    [look] = entries_since(before)
    assert look.event == AuditEvent.VIEW_PERSONAL_DATA


def test_the_landing_page_shows_nobodys_data_so_asks_no_reason(scenario, make_staff):
    """The admin index is the moderators' landing page (moderation_admin's queue panel):
    counts, report numbers, categories and deadlines, no member's name and no text,
    so it is no look. Its links lead to the gated pages."""
    moderator = make_staff("moderator")
    client = staff_client(moderator)
    before = last_seq()
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert 'class="moderation-landing"' in page.text
    report = Report.objects.get(room=scenario["private"])
    decide = reverse("admin:moderation_report_decide", args=[report.pk])
    assert decide in page.text
    for personal in ("secret du cercle", "rien que nous deux", "alice", "bob", "carol", "cercle"):
        assert (
            personal
            not in page.text.split('class="moderation-landing"')[1].split("</section>\n\n")[0]
        ), personal
    assert entries_since(before) == []
    # The link it gives asks for the reason first.
    gate = client.get(decide)
    assert gate.status_code == 403 and f'name="{REASON_FIELD}"' in gate.text
