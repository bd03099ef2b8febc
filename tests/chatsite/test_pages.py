"""Every page is French by default, English on request, and links the manifest."""

import pytest

pytestmark = pytest.mark.django_db


def test_home_is_french_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert '<link rel="manifest"' in html


def test_home_in_english_when_the_browser_asks(client):
    response = client.get("/", headers={"accept-language": "en"})
    assert '<html lang="en">' in response.content.decode()


def test_content_security_policy_forbids_inline_code(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    # Django adds 'nonce-...' only on pages that use {{ csp_nonce }}.
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "connect-src 'self' ws://127.0.0.1:8000" in policy


def test_manifest(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    assert response.json()["start_url"] == "/rooms/"
