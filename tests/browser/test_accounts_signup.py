"""Sign-up in a real browser: form, e-mail link, demo age attestation, rooms."""

import email
import email.policy
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations
from tests.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Un-mot-de-passe-solide-2026"


def confirmation_link(raw_mail: str) -> str:
    # The file backend separates messages with a line of dashes.
    message = email.message_from_string(
        raw_mail.split("\n" + "-" * 79)[0], policy=email.policy.default
    )
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://\S+/accounts/confirm-email/[^/\s]+/", body)
    assert match, body
    return match.group(0)


def test_signup_confirm_email_verify_age_and_reach_the_rooms(asgi_server, new_context):
    page = new_context().new_page()
    violations = csp_violations(page)
    page.goto(asgi_server.url + "/accounts/signup/")
    form = page.locator("main form")
    form.locator("[name=email]").fill("lina@example.org")
    form.locator("[name=username]").fill("Lina_B")
    form.locator("[name=password1]").fill(PASSWORD)
    form.locator("[name=password2]").fill(PASSWORD)
    form.locator("[name=date_of_birth]").fill("1992-03-08")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/accounts/confirm-email/")

    mails = asgi_server.mails()
    assert len(mails) == 1, asgi_server.log()
    link = confirmation_link(mails[0])
    assert link.startswith(asgi_server.url + "/accounts/confirm-email/")
    # A mail scanner (another browser, no session) opening the link confirms nothing:
    # it gets the "Confirmer" button (accounts/confirmation.py).
    scanner = new_context().new_page()
    scanner.goto(link)
    expect(scanner.get_by_role("button", name="Confirmer mon adresse")).to_be_visible()
    # In the browser that signed up, the link confirms on its own: one click.
    page.goto(link)
    page.wait_for_url("**/accounts/age/")

    page.locator("#start-attestation").click()
    page.wait_for_url("**/accounts/age/demo-issuer/**")
    assert "DÉMONSTRATION" in page.locator("main").inner_text()
    page.get_by_role("button", name="Oui, j'ai 18 ans ou plus").click()
    # The guided path ends with the welcome tour, whose last page leads to the rooms.
    page.wait_for_url(asgi_server.url + "/accounts/tour/")
    assert "Votre âge est vérifié" in page.content()
    page.goto(asgi_server.url + "/accounts/tour/3/")
    page.get_by_role("link", name="Aller aux salons").click()
    page.wait_for_url(asgi_server.url + "/rooms/")
    assert violations == []


def test_under_18_is_refused_in_the_browser(asgi_server, new_context):
    page = new_context().new_page()
    page.goto(asgi_server.url + "/accounts/signup/")
    form = page.locator("main form")
    form.locator("[name=email]").fill("kid@example.org")
    form.locator("[name=username]").fill("jeune")
    form.locator("[name=password1]").fill(PASSWORD)
    form.locator("[name=password2]").fill(PASSWORD)
    form.locator("[name=date_of_birth]").fill("2015-01-01")
    form.locator("button[type=submit]").click()
    assert page.get_by_text("réservé aux adultes").is_visible()
    assert asgi_server.mails() == []
    # Playwright's sync API runs an event loop here: query the ORM from a thread.
    exists = in_thread(lambda: get_user_model().objects.filter(username="jeune").exists())
    assert not exists
