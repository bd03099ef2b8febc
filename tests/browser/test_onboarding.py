"""The guided onboarding in a real browser, on a phone (360 px) and a desktop
(1280 px): home, sign-up, e-mail link, age attestation (the DEBUG demo issuer),
the welcome tour, a public room and a first message (docs/pages.md).

The room is created before the browser starts (Django refuses synchronous
queries while Playwright's event loop runs); afterwards the test only looks at
what the pages show, and at the mail the server wrote.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.axe import AXE_PATH, blocking, describe, run_axe
from tests.browser.conftest import csp_violations
from tests.browser.test_accounts_signup import PASSWORD, confirmation_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
STEPS = ["Créer le compte", "Confirmer l'e-mail", "Vérifier l'âge"]


@pytest.fixture
def public_room(transactional_db, asgi_server):
    from rooms import actions
    from rooms.models import RoomKind

    # Created before `new_context` starts Playwright (see the module docstring).
    return actions.do_create_room(
        actor=None, kind=RoomKind.PUBLIC, slug="bienvenue", name="Bienvenue"
    )


def expect_step(page, number: int) -> None:
    """The progress indicator names the three steps and marks the current one."""
    progress = page.locator("main .onboarding-progress")
    expect(progress).to_contain_text(f"étape {number} sur 3")
    expect(progress.locator("ol.steps > li")).to_have_count(3)
    current = progress.locator('li[aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current).to_have_text(STEPS[number - 1])
    expect(progress.locator("li.done")).to_have_count(number - 1)


def accessible(page, where: str) -> None:
    """axe-core (WCAG 2.2 A/AA) finds nothing serious or critical on this step.

    Some of these pages (the mail step, the tour, the demo issuer) are reached only
    through the path, so the page-by-page accessibility test cannot visit them.
    """
    if not AXE_PATH.exists():
        return  # test_accessibility.py fails loudly on a missing axe-core
    violations = blocking(run_axe(page))
    assert not violations, describe(violations, where=f"{where}: ")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
def test_from_the_home_page_to_a_first_message(public_room, asgi_server, new_context, viewport):
    page = new_context(viewport=VIEWPORTS[viewport]).new_page()
    violations = csp_violations(page)
    username = f"Nour_{viewport}"

    # Home: what Chatsite is, how it keeps people safe, and the way in.
    page.goto(asgi_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("entre adultes")
    expect(page.locator("main")).to_contain_text("Alerte")
    accessible(page, "home")
    page.locator("main .hero").get_by_role("link", name="Créer un compte").click()

    # Step 1: sign-up, with the rules linked.
    page.wait_for_url("**/accounts/signup/")
    expect_step(page, 1)
    assert no_horizontal_scroll(page)
    accessible(page, "signup")
    form = page.locator("main form")
    expect(form.get_by_role("link", name="règles de la communauté")).to_have_attribute(
        "href", "/rules/"
    )
    form.get_by_label("Adresse e-mail").fill(f"{viewport}@example.org")
    form.get_by_label("Pseudonyme").fill(username)
    form.locator("[name=password1]").fill(PASSWORD)
    form.locator("[name=password2]").fill(PASSWORD)
    form.get_by_label("Date de naissance").fill("1994-05-17")
    form.get_by_role("button", name="Créer mon compte").click()

    # Step 2: the mail is sent; its link, opened in this browser, confirms at once
    # (another browser or a mail scanner gets a "Confirmer" button: tests/accounts).
    page.wait_for_url("**/accounts/confirm-email/")
    expect_step(page, 2)
    accessible(page, "verification sent")
    [mail] = asgi_server.mails()
    page.goto(confirmation_link(mail))

    # Step 3: age, through the demonstration issuer (DEBUG only).
    page.wait_for_url("**/accounts/age/")
    expect_step(page, 3)
    assert no_horizontal_scroll(page)
    accessible(page, "age")
    page.locator("#start-attestation").click()
    page.wait_for_url("**/accounts/age/demo-issuer/**")
    expect_step(page, 3)
    accessible(page, "demo issuer")
    page.get_by_role("button", name="Oui, j'ai 18 ans ou plus").click()

    # The tour: three pages, walked with the keyboard only.
    page.wait_for_url("**/accounts/tour/")
    expect(page.locator(".flash")).to_contain_text("Votre âge est vérifié")
    titles = ["Salons et messages privés", "Bloquer ou ignorer", "Signaler, alerter"]
    for number, title in enumerate(titles, start=1):
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(page.locator("main")).to_contain_text(f"Visite guidée : {number} sur 3")
        accessible(page, f"tour {number}")
        if number < len(titles):
            page.get_by_role("link", name="Suivant", exact=True).focus()
            page.keyboard.press("Enter")
            page.wait_for_url(f"**/accounts/tour/{number + 1}/")
    assert no_horizontal_scroll(page)
    page.get_by_role("link", name="Aller aux salons").click()

    # A public room, and a first message that appears in the list.
    page.wait_for_url("**/rooms/")
    page.locator('main a[href="/rooms/bienvenue/"]').first.click()
    page.wait_for_url("**/rooms/bienvenue/")
    expect(page.locator("#chat-status")).to_have_text("Connecté")
    page.locator("#composer-body").fill("Bonjour à toutes et à tous !")
    page.locator("#composer-body").press("Enter")
    mine = page.locator("#messages .message", has_text="Bonjour à toutes et à tous !")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(username)
    assert violations == []
