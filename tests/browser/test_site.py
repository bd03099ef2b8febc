"""The site shell in a real browser: language, manifest, no CSP violation."""

import pytest

from tests.browser.conftest import csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_in_chromium(asgi_server, new_context):
    page = new_context().new_page()
    violations = csp_violations(page)
    response = page.goto(asgi_server.url + "/")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("link[rel=manifest]").count() == 1
    assert "Discuter librement" in page.locator("h1").inner_text()
    # The stylesheet was served and applied (static files under DEBUG).
    assert page.evaluate("getComputedStyle(document.body).display") == "flex"
    assert violations == []


def test_english_for_an_english_browser(asgi_server, new_context):
    page = new_context(locale="en-GB").new_page()
    page.goto(asgi_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "en"
