"""The privacy policy, the legal notice and the authorities' page: public, and
driven by settings (retention periods, LEGAL_*), never by retyped values."""

import re
from html import unescape

import pytest
from django.conf import settings as settings_module

from compliance.retention import DEFAULT_RETENTION_DAYS
from compliance.views import duration_text

pytestmark = pytest.mark.django_db

PAGES = ["/privacy/", "/legal/", "/authorities/"]


def retention_durations(html: str) -> list[str]:
    return [
        unescape(text) for text in re.findall(r'<dd class="retention-duration">([^<]*)</dd>', html)
    ]


@pytest.mark.parametrize("url", PAGES)
def test_pages_are_public_french_and_linked_from_every_footer(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert 'class="site-footer"' in html
    for link in ('href="/privacy/"', 'href="/legal/"', 'href="/authorities/"'):
        assert link in html


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_in_english_on_request(client, url):
    response = client.get(url, headers={"accept-language": "en"})
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()


def test_duration_text_uses_years_only_for_whole_years():
    assert duration_text(365) == "1 an"
    assert duration_text(5 * 365) == "5 ans"
    assert duration_text(30) == "30 jours"
    assert duration_text(1) == "1 jour"
    assert duration_text(400) == "400 jours"


def test_privacy_shows_the_default_retention_periods(client):
    durations = retention_durations(client.get("/privacy/").content.decode())
    assert "1 an à compter de la connexion" in durations
    assert "30 jours après la suppression" in durations
    assert "5 ans après la fermeture" in durations


def test_privacy_follows_the_compliance_retention_setting(client, settings):
    settings.COMPLIANCE_RETENTION = {
        "content_operations": 2 * 365,
        "presence_intervals": 4 * 365,
        "deleted_message_grace": 45,
        "identity_data": 3 * 365,
        "account_data": 90,
        "pending_identity_documents": 14,
        "moderation_records": 2 * 365 + 1,
        "sanctions": 3 * 365,
        "misuse_measures": 200,
        "moderator_notes": 500,
        "backups": 14,
    }
    html = client.get("/privacy/").content.decode()
    durations = retention_durations(html)
    assert "2 ans à compter de la connexion" in durations
    assert "2 ans à compter de l'opération" in durations
    assert "4 ans à compter de votre départ du salon" in durations
    assert "45 jours après la suppression" in durations
    assert "3 ans après la fermeture" in durations
    assert "90 jours après la fermeture" in durations
    assert any("après 14 jours sans examen" in text for text in durations)
    assert any(text.startswith("731 jours après la clôture du dossier") for text in durations)
    assert any(text.startswith("3 ans après la fin de la sanction") for text in durations)
    assert any(text.startswith("200 jours après la fin de la mesure") for text in durations)
    assert any(text.startswith("500 jours après leur dernière modification") for text in durations)
    assert any(text.startswith("14 jours après la sauvegarde") for text in durations)
    # Nothing left of the defaults.
    assert not [text for text in durations if "1 an " in text or "30 jours" in text]


def test_every_key_of_the_retention_policy_is_on_the_privacy_page(client, settings):
    """A period added to the policy without its line on the page fails here: the page
    is generated from the policy, and every one of its keys has a card stating it."""
    settings.COMPLIANCE_RETENTION = {key: 1000 + n for n, key in enumerate(DEFAULT_RETENTION_DAYS)}
    html = client.get("/privacy/").content.decode()
    cards = dict(
        re.findall(
            r'data-retention-key="(\w+)">.*?<dd class="retention-duration">([^<]*)</dd>',
            html,
            flags=re.S,
        )
    )
    assert set(cards) == set(DEFAULT_RETENTION_DAYS)
    # Each card states its own key's period (1000 + n days), not another's.
    for n, key in enumerate(DEFAULT_RETENTION_DAYS):
        assert f"{1000 + n} jours" in unescape(cards[key]), key


def test_every_key_of_the_retention_policy_is_in_the_compliance_docs():
    """docs/compliance.md's table of defaults lists every key with its default."""
    docs = (settings_module.BASE_DIR / "docs" / "compliance.md").read_text()
    block = docs.split("COMPLIANCE_RETENTION = {", 1)[1].split("}", 1)[0]
    listed = dict(re.findall(r'"(\w+)": (\d+),', block))
    assert listed == {key: str(days) for key, days in DEFAULT_RETENTION_DAYS.items()}


def test_privacy_names_the_rights_and_the_cnil(client, settings):
    settings.PRIVACY_CONTACT_EMAIL = "dpo@exemple.fr"
    html = client.get("/privacy/").content.decode()
    assert 'href="/api/me/export/"' in html
    assert 'href="/accounts/delete/"' in html
    assert "mailto:dpo@exemple.fr" in html
    assert "cnil.fr" in html


def test_legal_notice_reads_the_settings(client, settings):
    settings.LEGAL_PUBLISHER_NAME = "Chatsite SAS"
    settings.LEGAL_PUBLISHER_REGISTRATION = "SAS au capital de 1 000 €, RCS Paris 123 456 789"
    settings.LEGAL_ADDRESS = "12 rue de l'Exemple, 75011 Paris"
    settings.LEGAL_DIRECTOR_NAME = "Camille Martin"
    settings.LEGAL_HOST_NAME = "Hébergeur Exemple"
    settings.LEGAL_CONTACT_EMAIL = "bonjour@exemple.fr"
    html = client.get("/legal/").content.decode()
    for value in (
        "Chatsite SAS",
        "RCS Paris 123 456 789",
        "12 rue de l&#x27;Exemple, 75011 Paris",
        "Camille Martin",
        "Hébergeur Exemple",
        "mailto:bonjour@exemple.fr",
    ):
        assert value in html


def test_legal_notice_says_what_is_not_provided(client, settings):
    settings.LEGAL_HOST_NAME = ""
    settings.LEGAL_PUBLISHER_REGISTRATION = ""
    html = client.get("/legal/").content.decode()
    assert "non renseigné" in html
    assert "Forme, capital et immatriculation" not in html


def test_authorities_page_gives_the_contact_and_the_retention(client, settings):
    settings.AUTHORITIES_CONTACT_EMAIL = "requisitions@exemple.fr"
    settings.COMPLIANCE_RETENTION = {"content_operations": 2 * 365}
    html = client.get("/authorities/").content.decode()
    assert "mailto:requisitions@exemple.fr" in html
    assert "conservés 2 ans" in html
    assert "60-1" in html and "PHAROS" in html


def test_check_deploy_warns_while_the_legal_notice_is_incomplete(settings):
    from compliance.checks import check_legal_settings

    settings.LEGAL_ADDRESS = ""
    settings.LEGAL_HOST_NAME = ""
    settings.AUTHORITIES_CONTACT_EMAIL = "requisitions@chatsite.localhost"
    warnings = {warning.id: warning.msg for warning in check_legal_settings()}
    assert "LEGAL_ADDRESS" in warnings["compliance.W001"]
    assert "LEGAL_HOST_NAME" in warnings["compliance.W001"]
    assert "AUTHORITIES_CONTACT_EMAIL" in warnings["compliance.W002"]
    for name in ("LEGAL_ADDRESS", "LEGAL_PHONE", "LEGAL_DIRECTOR_NAME"):
        setattr(settings, name, "renseigné")
    settings.LEGAL_HOST_NAME = settings.LEGAL_HOST_ADDRESS = settings.LEGAL_HOST_PHONE = "x"
    settings.LEGAL_CONTACT_EMAIL = settings.PRIVACY_CONTACT_EMAIL = "contact@exemple.fr"
    settings.AUTHORITIES_CONTACT_EMAIL = "requisitions@exemple.fr"
    assert check_legal_settings() == []


def test_privacy_names_the_processors_from_the_settings(client, settings):
    settings.LEGAL_HOST_NAME = "Hébergeur Exemple SAS"
    settings.PRIVACY_AGE_VERIFICATION_PROVIDER = "Vérif'Âge Exemple"
    settings.EMAIL_URL = "smtp+tls://user:secret@smtp.courrier-exemple.fr:587"
    settings.PRIVACY_MAIL_PROVIDER = ""
    html = unescape(client.get("/privacy/").content.decode())
    processors = dict(
        re.findall(r'data-recipient="(\w+)"><strong>[^<]*</strong> : (.*?)\. Reçoit', html)
    )
    assert processors["hosting"] == "Hébergeur Exemple SAS"
    assert processors["age_verification"] == "Vérif'Âge Exemple"
    # Without a name, the mail provider is the host of EMAIL_URL (never its password).
    assert processors["mail"] == "smtp.courrier-exemple.fr" and "secret" not in html


def test_privacy_says_when_a_processor_is_not_named(client, settings):
    settings.LEGAL_HOST_NAME = ""
    settings.PRIVACY_AGE_VERIFICATION_PROVIDER = ""
    settings.AGE_ATTESTATION_PROVIDER_URL = ""
    html = client.get("/privacy/").content.decode()
    assert re.search(r'data-recipient="hosting"><strong>[^<]*</strong> : non renseigné', html)


def test_privacy_names_spontaneous_notifications_beside_requisitions(client):
    html = unescape(client.get("/privacy/").content.decode())
    assert "sur réquisition légale uniquement" not in html
    assert 'data-recipient="requisition"' in html and 'data-recipient="art18"' in html
    assert "PHAROS" in html and "article 18 du règlement sur les services numériques" in html
    assert "sans réquisition" in html


def test_privacy_in_english(client):
    html = unescape(client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Our processors, acting on our instructions" in html
    assert "on our own initiative: PHAROS" in html
