"""The wallet's proof of age in a real browser, with the DEBUG demonstration wallet,
on a phone (360 px) and a desktop (1280 px), axe-clean at every step.

On the phone the wallet is opened from the page (same device) and first shares
a "moins de 18 ans" proof, which is refused with its message; on the desktop
the wallet is another device (another browser context, without our cookies,
as a phone scanning the QR code) and the desktop page learns the outcome by
itself (polling). The Digital Credentials API is checked for its feature
detection: Debian's headless Chromium has no wallet to answer it
(docs/accounts.md, 3.4).
"""

from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations
from tests.browser.site_pages import session_of
from tests.browser.test_onboarding import accessible, expect_step, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture
def member_session(transactional_db, asgi_server):
    """An adult whose e-mail is confirmed and whose age is not verified yet; its
    session cookie (made before Playwright starts: Django refuses synchronous
    queries inside its event loop)."""
    import datetime

    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username="Ines",
        email="ines@example.org",
        password="correct-horse-battery-staple-42",
        date_of_birth=datetime.date(1992, 3, 4),
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return session_of(user)


def signed_in_page(new_context, asgi_server, session, viewport):
    from django.conf import settings

    context = new_context(viewport=viewport)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": asgi_server.url}]
    )
    return context.new_page()


def open_wallet_page(page, asgi_server):
    page.goto(asgi_server.url + "/accounts/age/")
    expect(page.locator("#method-wallet")).to_contain_text("double anonymat")
    expect(page.locator("#method-attestation")).not_to_contain_text("double anonymat")
    accessible(page, "age")
    page.locator("#start-wallet").click()
    page.wait_for_url("**/accounts/age/wallet/")
    expect_step(page, 3)
    assert no_horizontal_scroll(page)
    accessible(page, "wallet request")
    link = page.locator("#wallet-link").get_attribute("href")
    assert link.startswith("av://?")
    params = dict(parse_qsl(urlsplit(link).query))
    assert params["client_id"] == "redirect_uri:" + params["response_uri"]
    assert params["response_uri"] == asgi_server.url + "/accounts/age/wallet/response/"
    expect(page.locator("img.qr")).to_be_visible()
    # The Digital Credentials API button appears exactly where the browser has it.
    has_dc_api = page.evaluate(
        "typeof window.DigitalCredential !== 'undefined' && !!navigator.credentials"
    )
    if has_dc_api:
        expect(page.locator("#dc-api")).to_be_visible()
    else:
        expect(page.locator("#dc-api")).to_be_hidden()
    return params


def share(page, button: str) -> None:
    expect(page.locator(".demo-wallet [role=alert]")).to_contain_text("DÉMONSTRATION")
    assert no_horizontal_scroll(page)
    accessible(page, "demo wallet")
    page.locator(button).click()


def test_same_device_with_a_refusal_then_a_proof_of_age(member_session, asgi_server, new_context):
    page = signed_in_page(new_context, asgi_server, member_session, VIEWPORTS["phone"])
    violations = csp_violations(page)
    open_wallet_page(page, asgi_server)

    page.locator("#demo-wallet").click()
    page.wait_for_url("**/accounts/age/demo-wallet/**")
    share(page, "#share-minor")
    page.wait_for_url("**/accounts/age/wallet/")
    expect(page.locator(".flash")).to_contain_text("n'atteste pas que vous avez 18 ans")
    accessible(page, "wallet refusal")

    page.locator("#demo-wallet").click()
    page.wait_for_url("**/accounts/age/demo-wallet/**")
    share(page, "#share-adult")
    page.wait_for_url("**/accounts/tour/")
    expect(page.locator(".flash")).to_contain_text("Votre âge est vérifié")
    page.goto(asgi_server.url + "/accounts/age/")
    expect(page.locator("main .status.ok")).to_contain_text("portefeuille")
    assert violations == []


def test_another_device_answers_and_the_desktop_page_follows(
    member_session, asgi_server, new_context
):
    desktop = signed_in_page(new_context, asgi_server, member_session, VIEWPORTS["desktop"])
    violations = csp_violations(desktop)
    open_wallet_page(desktop, asgi_server)
    demo_url = desktop.locator("#demo-wallet").get_attribute("href")

    # The "phone": another browser, none of the desktop's cookies.
    phone = new_context(viewport=VIEWPORTS["phone"]).new_page()
    phone_violations = csp_violations(phone)
    phone.goto(asgi_server.url + demo_url)
    share(phone, "#share-adult")
    phone.wait_for_url("**/accounts/**")  # sent on to the site, which asks it to sign in

    # The desktop page polls, sees the answer and moves on by itself.
    desktop.wait_for_url("**/accounts/tour/", timeout=20_000)
    expect(desktop.locator(".flash")).to_contain_text("Votre âge est vérifié")
    accessible(desktop, "tour after wallet")
    assert violations == [] and phone_violations == []


def test_the_digital_credentials_api_path(member_session, asgi_server, new_context):
    """Debian's Chromium exposes the Digital Credentials API, but a test machine has
    no wallet app behind it (the real call waits for a platform wallet that never
    answers). The wallet's part is played by the demonstration wallet's material
    (the server's own var/ file), injected as navigator.credentials.get: the page's
    request, its script, the CSRF-protected endpoint and the verification are real."""
    from accounts.wallet import demo

    # Made before the server first needs it, so both use the same demonstration issuer.
    material = demo._material(asgi_server.var_dir / demo.KEY_FILE_NAME)
    page = signed_in_page(new_context, asgi_server, member_session, VIEWPORTS["desktop"])
    violations = csp_violations(page)
    params = open_wallet_page(page, asgi_server)
    if not page.evaluate("typeof window.DigitalCredential !== 'undefined'"):
        pytest.skip("this Chromium does not expose the Digital Credentials API")
    expect(page.locator("#dc-api-button")).to_be_visible()
    answer = demo.answer_dc_api_request(
        nonce=params["nonce"], origin=asgi_server.url, demo=material
    )
    # The stand-in answers only the request the contract describes, as a wallet would.
    page.evaluate(
        """([answer, nonce]) => {
            navigator.credentials.get = async options => {
                const [request] = options.digital.requests;
                if (request.protocol !== "openid4vp-v1-unsigned") throw new Error("protocol");
                const data = request.data;
                if (data.response_mode !== "dc_api") throw new Error("response_mode");
                if (data.nonce !== nonce) throw new Error("nonce");
                const [query] = data.dcql_query.credentials;
                if (query.meta.doctype_value !== "eu.europa.ec.av.1") throw new Error("doctype");
                return {protocol: request.protocol, data: answer};
            };
        }""",
        [answer, params["nonce"]],
    )
    page.locator("#dc-api-button").click()
    page.wait_for_url("**/accounts/tour/")
    expect(page.locator(".flash")).to_contain_text("Votre âge est vérifié")
    assert violations == []
