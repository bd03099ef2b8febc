"""Trust levels (moderation/trust.py): the level from each input, each gate,
the member's page, the admin's panel and the settings that tune them."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.models import AgeVerificationMethod
from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import RefusalCode, Refused
from moderation import actions as moderation_actions
from moderation import trust
from moderation.models import (
    Ground,
    HeldMessage,
    HeldStatus,
    Report,
    ReportCategory,
    ReportSource,
    ReportStatus,
    Sanction,
    SanctionKind,
    Severity,
    StatementOfReasons,
)
from rooms import actions, policy_cache
from rooms.models import ContactRequest, Message, RoomKind
from tests.conftest import grant_looks, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _trust_gates_on(settings):
    # tests/conftest.py turns them off for every other test.
    settings.TRUST_GATES = True


@pytest.fixture
def client_for_api():
    from django.test import Client

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def member(make_user):
    """Makes a member whose account is `days` old, verified by `method`."""

    def make(username=None, *, days=0, method=AgeVerificationMethod.ATTESTATION):
        user = make_user(username)
        user.date_joined = timezone.now() - timedelta(days=days, minutes=1)
        user.age_verification_method = method
        user.save(update_fields=["date_joined", "age_verification_method"])
        return user

    return make


def level(user) -> int:
    """The gates' level, which must be the one the page and the admin show."""
    found = trust.level_of(user)
    assert trust.standing(user).level == found
    return found


def _sanction(user, *, days_ago=0, automated=False, lifted=False) -> Sanction:
    created = timezone.now() - timedelta(days=days_ago)
    return Sanction.objects.create(
        kind=SanctionKind.WARN,
        user=user,
        reason="Motif.",
        ground=Ground.TERMS_HARASSMENT,
        automated=automated,
        created=created,
        starts_at=created,
        lifted_at=timezone.now() if lifted else None,
    )


def _reports(reporter, *, upheld=0, rejected=0) -> None:
    for status, count in ((ReportStatus.ACTIONED, upheld), (ReportStatus.DISMISSED, rejected)):
        for _ in range(count):
            Report.objects.create(
                category=ReportCategory.SPAM,
                source=ReportSource.USER,
                reporter=reporter,
                target_user=reporter,
                severity=Severity.NORMAL,
                status=status,
                deadline=timezone.now(),
            )


# --- the level from each input --------------------------------------------------------------


def test_account_age_raises_the_level(member):
    assert level(member(days=0)) == trust.TrustLevel.NEW
    assert level(member(days=1)) == trust.TrustLevel.MEMBER
    assert level(member(days=7)) == trust.TrustLevel.REGULAR
    assert level(member(days=30)) == trust.TrustLevel.CONFIRMED


def test_a_new_account_is_told_how_long_until_the_next_level(member):
    standing = trust.standing(member(days=0))
    age, method, sanctions = standing.next_requirements[:3]
    assert not age.met and age.text == "Compte créé depuis au moins 1 jour"
    assert age.status.startswith("encore ")
    assert method.met and sanctions.met


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (AgeVerificationMethod.WALLET, trust.TrustLevel.CONFIRMED),
        (AgeVerificationMethod.ATTESTATION, trust.TrustLevel.CONFIRMED),
        # A reviewed photo of a document is the easiest route to borrow: not level 3.
        (AgeVerificationMethod.DOCUMENT, trust.TrustLevel.REGULAR),
    ],
)
def test_the_verification_route_caps_the_level(member, method, expected):
    user = member(days=60, method=method)
    assert level(user) == expected
    if expected < trust.HIGHEST:
        unmet = [r for r in trust.standing(user).next_requirements if not r.met]
        assert [r.text for r in unmet] == [
            "Âge vérifié par : preuve d'âge du portefeuille (double anonymat), "
            "attestation signée par un fournisseur"
        ]


def test_upheld_sanctions_lower_the_level_until_they_leave_the_window(member):
    user = member(days=60)
    _sanction(user)
    assert level(user) == trust.TrustLevel.MEMBER  # one is allowed at level 1, none above
    _sanction(user, days_ago=3)
    assert level(user) == trust.TrustLevel.NEW
    status = trust.standing(user).next_requirements[2].status
    assert status.startswith("2 sanctions maintenues ; la plus récente compte jusqu'au ")


def test_lifted_automated_and_old_sanctions_do_not_count(member):
    user = member(days=60)
    _sanction(user, lifted=True)  # reversed on appeal or lifted by a moderator
    _sanction(user, automated=True)  # a filter's mute, not a person's decision
    _sanction(user, days_ago=200)  # out of the 180-day window
    assert level(user) == trust.TrustLevel.CONFIRMED


@pytest.mark.parametrize(
    ("upheld", "rejected", "expected"),
    [
        (0, 0, trust.TrustLevel.CONFIRMED),  # never reported: nothing against them
        (0, 4, trust.TrustLevel.CONFIRMED),  # fewer than 5 decided: not yet judged
        (1, 4, trust.TrustLevel.MEMBER),  # 20 %: below level 2's 30 %
        (2, 3, trust.TrustLevel.REGULAR),  # 40 %: below level 3's 50 %
        (3, 2, trust.TrustLevel.CONFIRMED),
    ],
)
def test_report_accuracy(member, upheld, rejected, expected):
    user = member(days=60)
    _reports(user, upheld=upheld, rejected=rejected)
    assert level(user) == expected


def test_open_reports_and_reports_by_others_do_not_count(member, make_user):
    user = member(days=60)
    _reports(user, rejected=5)
    Report.objects.filter(reporter=user).update(status=ReportStatus.OPEN)
    _reports(make_user(), rejected=5)
    assert level(user) == trust.TrustLevel.CONFIRMED


def test_settings_override_the_thresholds(member, settings):
    settings.TRUST_LEVELS = [{"account_age_days": 0}, {}, {"verification_methods": ["wallet"]}]
    assert level(member(days=0)) == trust.TrustLevel.MEMBER
    assert level(member(days=60)) == trust.TrustLevel.REGULAR  # attestation: not level 3 now
    settings.TRUST_SANCTION_WINDOW_DAYS = 2
    user = member(days=60, method=AgeVerificationMethod.WALLET)
    _sanction(user, days_ago=3)
    _sanction(user, days_ago=3)
    assert level(user) == trust.TrustLevel.CONFIRMED


def test_per_level_settings_repeat_their_last_number(settings):
    settings.TRUST_DIRECT_CONVERSATIONS_PER_HOUR = [2, 5]
    assert trust.app_settings.TRUST_DIRECT_CONVERSATIONS_PER_HOUR == (2, 5, 5, 5)


# --- links and contact details ----------------------------------------------------------------


def _refusal(room, user, body) -> Refused:
    with pytest.raises(Refused) as refused:
        actions.do_post_message(room, body, actor=user)
    assert not Message.objects.filter(author=user, body=body).exists()
    return refused.value


def test_links_need_level_1(room, member):
    newcomer = member(days=0)
    refusal = _refusal(room, newcomer, "regardez https://exemple.fr/promo")
    assert refusal.code == RefusalCode.FORBIDDEN
    assert "Les liens ne sont pas encore permis" in refusal.detail
    assert "« membre » (1)" in refusal.detail and "Niveau de confiance" in refusal.detail
    assert _refusal(room, newcomer, "sur www.exemple.fr").code == RefusalCode.FORBIDDEN
    actions.do_post_message(room, "pas de lien ici", actor=newcomer)
    actions.do_post_message(room, "regardez https://exemple.fr", actor=member(days=1))


@pytest.mark.parametrize(
    "body",
    ["appelle-moi au 06 12 34 56 78", "écris à lea@example.org", "mon snap: lea_92"],
)
def test_contact_details_need_level_2(room, member, body):
    refusal = _refusal(room, member(days=1), body)
    assert refusal.code == RefusalCode.FORBIDDEN
    assert "Les coordonnées" in refusal.detail and "« habitué » (2)" in refusal.detail
    actions.do_post_message(room, body, actor=member(days=7))


def test_a_mention_is_not_a_handle(room, member, make_user):
    make_user("alice")
    actions.do_post_message(
        room, "@alice ça va bien ? je l'ai vu sur facebook hier", actor=member()
    )


def test_staff_and_gates_off_are_exempt(room, member, make_staff, settings):
    from tests.conftest import otp_verified

    moderator = otp_verified(make_staff())  # a moderator quotes what they moderate
    body = "le lien signalé : https://exemple.fr, son 06 12 34 56 78"
    assert trust.refuse_links_below_level(moderator, room, body) is None
    assert trust.refuse_contact_details_below_level(moderator, room, body) is None
    settings.TRUST_GATES = False
    actions.do_post_message(room, "https://exemple.fr 06 12 34 56 78", actor=member())


def test_min_level_settings(room, member, settings):
    settings.TRUST_LINKS_MIN_LEVEL = 0
    settings.TRUST_CONTACT_DETAILS_MIN_LEVEL = 3
    newcomer = member()
    actions.do_post_message(room, "https://exemple.fr", actor=newcomer)
    refusal = _refusal(room, member(days=7), "06 12 34 56 78")
    assert "« confirmé » (3)" in refusal.detail


def test_an_edit_passes_the_same_gates(room, member):
    newcomer = member()
    message = actions.do_post_message(room, "bonjour", actor=newcomer).message
    with pytest.raises(Refused) as refused:
        actions.do_edit_message(message.pk, "bonjour https://exemple.fr", actor=newcomer)
    assert refused.value.code == RefusalCode.FORBIDDEN


# --- new direct conversations per hour -------------------------------------------------------


def test_new_direct_conversations_per_hour_by_level(member, make_user, client_for_api):
    newcomer = member()
    client = client_for_api(newcomer)
    others = [make_user() for _ in range(4)]
    for other in others[:3]:
        response = client.post("/api/dm/", {"username": other.username}, "application/json")
        assert response.status_code == 200
    response = client.post("/api/dm/", {"username": others[3].username}, "application/json")
    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "rate_limited"
    assert "3 nouvelles conversations dans l'heure" in body["detail"]
    assert "« nouveau »" in body["detail"]
    assert "Au niveau « membre », la limite passe à 10 par heure." in body["detail"]
    assert ContactRequest.objects.filter(sender=newcomer).count() == 3
    # An existing conversation is not a new one.
    response = client.post("/api/dm/", {"username": others[0].username}, "application/json")
    assert response.status_code == 200


def test_the_hour_slides(member, make_user):
    newcomer = member()
    for _ in range(3):
        actions.do_open_direct_room(make_user(), actor=newcomer)
    ContactRequest.objects.filter(sender=newcomer).update(
        created_at=timezone.now() - timedelta(minutes=61)
    )
    actions.do_open_direct_room(make_user(), actor=newcomer)


def test_the_page_shows_the_refusal(member, make_user, settings):
    from django.test import Client

    settings.TRUST_DIRECT_CONVERSATIONS_PER_HOUR = [1, 10]
    newcomer = member()
    actions.do_open_direct_room(make_user(), actor=newcomer)
    other = make_user("bob")
    client = Client()
    client.force_login(newcomer)
    response = client.post(f"/dm/{other.username}/")
    page = response.content.decode()
    assert "Vous avez ouvert 1 nouvelle conversation dans l&#x27;heure" in page
    assert not ContactRequest.objects.filter(recipient=other).exists()


# --- first messages in a busy room --------------------------------------------------------


def _make_busy(room, regular, count=30):
    for number in range(count):
        actions.do_post_message(room, f"message {number}", actor=regular)
    trust.ROOM_ACTIVITY.invalidate()


def test_a_first_message_in_a_busy_room_is_held(room, member, moderator):
    _make_busy(room, member(days=60))
    newcomer = member()
    refusal = _refusal(room, newcomer, "salut tout le monde")
    assert refusal.code == RefusalCode.FILTERED
    assert "relus par un modérateur" in refusal.detail and "« membre » (1)" in refusal.detail
    held = HeldMessage.objects.get(author=newcomer)
    assert (held.body, held.rule, held.trust_level, held.status) == (
        "salut tout le monde",
        None,
        0,
        HeldStatus.PENDING,
    )
    entry = AuditEntry.objects.filter(event=AuditEvent.MESSAGE_HELD).get()
    assert entry.details == {"rule": None, "trust_level": 0, "room": room.pk, "user": newcomer.pk}
    # Released by a moderator, it is published; the next one goes through.
    message = moderation_actions.do_release_held_message(held, actor=moderator)
    assert message.body == "salut tout le monde"
    actions.do_post_message(room, "merci", actor=newcomer)


def test_a_rejected_first_message_gets_its_statement_of_reasons(room, member, moderator):
    _make_busy(room, member(days=60))
    newcomer = member()
    _refusal(room, newcomer, "achetez mes trucs")
    held = HeldMessage.objects.get(author=newcomer)
    moderation_actions.do_reject_held_message(held, actor=moderator, reason="Publicité.")
    statement = StatementOfReasons.objects.get(user=newcomer)
    assert "Premier message dans un salon très actif, retenu au niveau de confiance 0" in (
        statement.facts
    )
    assert "« achetez mes trucs »" in statement.facts


def test_no_hold_in_a_quiet_room_at_level_1_or_in_a_private_room(room, member, make_room):
    regular = member(days=60)
    _make_busy(room, regular, count=29)
    actions.do_post_message(room, "bonjour", actor=member())
    _make_busy(room, regular, count=1)
    actions.do_post_message(room, "bonjour", actor=member(days=1))
    private = make_room(RoomKind.PRIVATE, owner=regular)
    _make_busy(private, regular)
    newcomer = member()
    invitation = actions.do_invite_to_room(private, newcomer, actor=regular)
    actions.do_answer_invitation(invitation, actor=newcomer, accept=True)
    actions.do_post_message(private, "bonjour", actor=newcomer)
    assert not HeldMessage.objects.exists()


def test_busy_room_settings(room, member, moderator, settings):
    settings.TRUST_BUSY_ROOM_MESSAGES = 3
    settings.TRUST_BUSY_ROOM_FIRST_MESSAGES = 2
    _make_busy(room, member(days=60), count=3)
    newcomer = member()
    assert _refusal(room, newcomer, "un").code == RefusalCode.FILTERED
    moderation_actions.do_release_held_message(
        HeldMessage.objects.get(author=newcomer), actor=moderator
    )
    assert _refusal(room, newcomer, "deux").code == RefusalCode.FILTERED


# --- the cache: no query per post, every change reaches the next post ----------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_confirmed_member_costs_no_query_and_a_sanction_lowers_the_level_at_once(
    room, member, moderator, open_socket
):
    from tests.moderation.test_policy_cache import MAX_QUERIES_PER_POST, _post_counting_queries

    alice = await database_sync_to_async(member)(days=60)
    socket = await open_socket(alice, room.slug)
    assert policy_cache.is_live()
    count = database_sync_to_async(_post_counting_queries)
    await count(room, alice, "https://exemple.fr", "c1")  # fills the caches
    queries = await count(room, alice, "https://exemple.fr/2", "c2")
    assert not [sql for sql in queries if "moderation_" in sql], queries
    assert len(queries) <= MAX_QUERIES_PER_POST, queries

    def warn_twice():
        for _ in range(2):
            moderation_actions.do_issue_sanction(
                alice, actor=moderator, kind="warn", reason="Motif."
            )

    await database_sync_to_async(warn_twice)()
    await socket.post("https://exemple.fr/3", "c3")
    frame = await socket.receive_type("error")
    assert (frame["code"], frame["client_id"]) == ("forbidden", "c3")


@pytest.mark.django_db(transaction=True)
async def test_a_bulk_write_of_sanctions_drops_the_cached_levels(room, member, open_socket):
    alice = await database_sync_to_async(member)(days=60)
    await database_sync_to_async(lambda: [_sanction(alice), _sanction(alice)])()
    await open_socket(alice, room.slug)
    assert policy_cache.is_live()
    assert await database_sync_to_async(trust.level_of)(alice) == trust.TrustLevel.NEW

    def lift_all():
        Sanction.objects.filter(user=alice).update(lifted_at=timezone.now())

    await database_sync_to_async(lift_all)()
    assert await database_sync_to_async(trust.level_of)(alice) == trust.TrustLevel.CONFIRMED


def test_a_dismissed_report_changes_the_record_through_the_action(member, room, moderator):
    reporter = member(days=60)
    author = member(days=60)
    message = actions.do_post_message(room, "bonjour", actor=author).message
    for _ in range(4):
        _reports(reporter, rejected=1)
    assert trust.record_of(reporter).reports_rejected == 4
    report = moderation_actions.do_file_report(
        actor=reporter, category=ReportCategory.SPAM, message=message
    )
    moderation_actions.do_dismiss_report(report, actor=moderator, reason="Rien d'interdit.")
    assert trust.record_of(reporter).reports_rejected == 5
    assert level(reporter) == trust.TrustLevel.MEMBER


# --- the member's page and the admin -------------------------------------------------------------


def test_the_member_sees_their_level_and_what_unlocks_the_next(member):
    from django.test import Client

    client = Client()
    client.force_login(member(days=0))
    response = client.get("/trust/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "Votre niveau : <strong>nouveau</strong> (0 sur 3)" in page
    assert "Pour passer au niveau « membre »" in page
    assert "Compte créé depuis au moins 1 jour" in page and "encore" in page
    profile = client.get("/accounts/profile/").content.decode()
    assert 'href="/trust/"' in profile


def test_the_page_in_english(member):
    from django.test import Client

    client = Client()
    client.force_login(member(days=60))
    page = client.get("/trust/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your level: <strong>confirmed</strong> (3 of 3)" in page
    assert "You have the highest level." in page


def test_staff_see_the_level_and_why_in_the_admin(member, make_staff):
    user = member(days=60, method=AgeVerificationMethod.DOCUMENT)
    client = grant_looks(
        staff_client(make_staff("admin")), "accounts.user", ("accounts.user", user.pk)
    )
    page = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "Niveau de confiance" in page and "Niveau 2 · habitué" in page
    assert "✗ Âge vérifié par : preuve d&#x27;âge du portefeuille" in page


def test_the_demo_is_seeded_with_the_gates_on(settings):
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    assert not HeldMessage.objects.exists()
    demo = get_user_model().objects.filter(email__endswith="@demo.chatsite.localhost")
    assert demo.exists()
    assert {level(user) for user in demo} == {trust.TrustLevel.CONFIRMED}
