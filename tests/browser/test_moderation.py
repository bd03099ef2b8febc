"""A report, a ban from the admin and its live effect, in real browsers.

A member reports a message; a moderator signs in to the admin with a TOTP
code, opens the report and bans its author site-wide; the author's open room
page shows that it was disconnected, and a reload cannot reconnect. Everything
in the database is set up before the browser starts (Django refuses
synchronous queries while Playwright's event loop runs).
"""

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODERATOR_PASSWORD = "moderator-password-for-browser-7c1"
REPORTED_TEXT = "Je sais où tu habites."


@dataclass
class Setup:
    author_session: str
    reporter_session: str
    message_id: int
    moderator: str
    totp: TOTP


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def setup(transactional_db, make_user, asgi_server) -> Setup:
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from accounts.actions import do_create_staff_account
    from rooms import actions
    from rooms.models import RoomKind

    room = actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="general", name="Général")
    author, reporter = make_user("auteur"), make_user("temoin")
    message = actions.do_post_message(room, REPORTED_TEXT, actor=author).message
    staff = do_create_staff_account(
        "modo",
        email="modo@staff.example",
        role="moderator",
        password=MODERATOR_PASSWORD,
        actor=None,
    )
    # A moderator who chats in rooms is a verified adult like everyone else.
    EmailAddress.objects.filter(user=staff.user).update(verified=True)
    staff.user.age_verified_at = timezone.now()
    staff.user.save(update_fields=["age_verified_at"])
    device = staff.totp_device
    return Setup(
        author_session=session_of(author),
        reporter_session=session_of(reporter),
        message_id=message.pk,
        moderator="modo",
        totp=TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift),
    )


def watched(page):
    """Collects the page's Content-Security-Policy violations in `page.csp_violations`."""
    page.csp_violations = csp_violations(page)
    return page


def open_as(new_context, server, session: str, path: str):
    context = new_context()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.url}]
    )
    page = watched(context.new_page())
    page.goto(server.url + path)
    return page


def sign_in_to_admin(page, server, setup: Setup) -> None:
    page.goto(server.url + "/admin/login/")
    page.fill("#id_username", setup.moderator)
    page.fill("#id_password", MODERATOR_PASSWORD)
    page.fill("#id_otp_token", f"{setup.totp.token():0{setup.totp.digits}d}")
    page.locator("input[type=submit]").last.click()
    expect(page.locator("#site-name")).to_be_visible()


def test_a_report_then_a_ban_from_the_admin_disconnects_the_author(setup, asgi_server, new_context):
    author = open_as(new_context, asgi_server, setup.author_session, "/rooms/general/")
    reporter = open_as(new_context, asgi_server, setup.reporter_session, "/rooms/general/")
    for page in (author, reporter):
        expect(page.locator("#chat-status")).to_have_text("Connecté")

    # The member reports the message from its report button.
    message = reporter.locator(f'#messages li[data-id="{setup.message_id}"]')
    expect(message.locator(".message-body")).to_have_text(REPORTED_TEXT)
    message.locator(".report-button").click()
    dialog = reporter.locator("#report-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("select[name=category]").select_option("threat")
    dialog.locator("#report-details").fill("Il me menace.")
    dialog.locator(".report-send").click()
    expect(dialog.locator(".report-done")).to_be_visible()

    # The moderator signs in with a TOTP code and bans the author from the report.
    moderator = watched(new_context().new_page())
    sign_in_to_admin(moderator, asgi_server, setup)
    moderator.goto(asgi_server.url + "/admin/moderation/report/")
    # The queue shows people: the moderator states why first (audit/looks.py).
    moderator.locator("textarea[name=access_reason]").fill("Traitement de la file du jour.")
    moderator.locator("form input[type=submit]").last.click()
    expect(moderator.locator('[data-count="urgent"]')).to_have_text("1")
    moderator.locator("#result_list a", has_text="menace").first.click()
    expect(moderator.locator(".report-context")).to_contain_text(REPORTED_TEXT)
    moderator.locator("select[name=outcome]").select_option("ban")
    # Nothing is chosen in advance (issue 18): the ground too.
    moderator.locator("select[name=ground]").select_option("terms_violence")
    moderator.locator("input[name=site_wide]").check()
    moderator.locator("textarea[name=reason]").fill("Menaces envers un membre.")
    moderator.locator("#decision-form input[type=submit]").click()
    expect(moderator.locator(".messagelist")).to_contain_text("Décision enregistrée")

    # The author's open page was disconnected, told why, and cannot reconnect.
    expect(author.locator("#chat-status")).to_have_text("Bannissement du site")
    expect(author.locator("#restriction")).to_contain_text("à titre définitif")
    expect(author.locator("#composer-body")).to_be_disabled()
    # Nor read it over HTTP: the page itself is refused now, naming the decision.
    author.reload()
    expect(author.locator("h1")).to_have_text("Accès refusé")
    expect(author.locator("#restriction .restriction-appeal")).to_be_visible()
    expect(author.locator("#composer-body")).to_have_count(0)
    # The account still works: the statement of reasons is there, with the appeal form.
    author.goto(asgi_server.url + "/decisions/")
    author.locator(".decision-list a").first.click()
    expect(author.locator(".statement-measure")).to_have_text("bannissement")
    expect(author.locator(".appeal-form")).to_be_visible()
    for page in (author, reporter, moderator):
        assert page.csp_violations == []


def test_a_moderator_removes_and_bans_from_the_room(setup, asgi_server, new_context):
    author = open_as(new_context, asgi_server, setup.author_session, "/rooms/general/")
    reader = open_as(new_context, asgi_server, setup.reporter_session, "/rooms/general/")
    moderator = watched(new_context().new_page())
    sign_in_to_admin(moderator, asgi_server, setup)
    moderator.goto(asgi_server.url + "/rooms/general/")
    for page in (author, reader, moderator):
        expect(page.locator("#chat-status")).to_have_text("Connecté")

    message = moderator.locator(f'#messages li[data-id="{setup.message_id}"]')
    message.locator(".moderate-button").click()
    dialog = moderator.locator("#moderate-dialog")
    expect(dialog.locator(".moderate-author")).to_have_text("auteur")
    dialog.locator("input[name=remove]").check()  # unchecked at first (issue 18)
    dialog.locator("select[name=kind]").select_option("ban")
    dialog.locator("select[name=ground]").select_option("terms_violence")
    dialog.locator("textarea[name=reason]").fill("Menaces envers un membre.")
    dialog.locator(".moderate-send").click()
    expect(dialog.locator(".moderate-done")).to_be_visible()

    deleted = reader.locator(f'#messages li[data-id="{setup.message_id}"]')
    expect(deleted).to_have_class("message deleted")
    expect(deleted.locator(".message-body")).to_have_text("Message supprimé")
    expect(author.locator("#chat-status")).to_have_text("Bannissement de ce salon")
    expect(reader.locator("#chat-status")).to_have_text("Connecté")
    for page in (author, reader, moderator):
        assert page.csp_violations == []


@pytest.fixture
def victim_session(transactional_db, make_user, asgi_server) -> str:
    from rooms import actions

    victim, stranger = make_user("victime"), make_user("inconnu")
    direct = actions.do_open_direct_room(stranger, actor=victim)
    actions.do_post_message(direct, "Arrête de m'écrire.", actor=victim)
    return session_of(victim)


def test_the_alert_button_of_a_direct_conversation(victim_session, asgi_server, new_context):
    page = open_as(new_context, asgi_server, victim_session, "/dm/inconnu/")
    expect(page.locator("#chat-status")).to_have_text("Connecté")
    page.locator(".alert-button").click()
    dialog = page.locator("#report-dialog")
    expect(dialog.locator(".report-title")).to_have_text("Alerte : je me sens en danger")
    expect(dialog.locator(".report-category")).to_be_hidden()
    dialog.locator("#report-details").fill("Il connaît mon adresse.")
    dialog.locator("#report-threat").check()
    dialog.locator(".report-send").click()
    expect(dialog.locator(".report-done")).to_be_visible()
    assert page.csp_violations == []
