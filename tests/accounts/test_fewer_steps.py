"""Issue 18, item 6 (fewer steps), the server side: the mail link confirms on one
click in the browser that asked (never for a scanner), branded mail in HTML and
text, the date of birth explained, one "Mot de passe oublié ?", the icons served,
"Mes décisions" in the navigation only once there is something there."""

import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.staticfiles import finders
from django.test import Client

from tests.accounts.test_signup import confirmation_link, signup_data

pytestmark = pytest.mark.django_db


def test_the_link_confirms_on_one_click_in_the_browser_that_signed_up(client, mailoutbox):
    client.post("/accounts/signup/", signup_data())
    response = client.get(urlsplit(confirmation_link(mailoutbox[0])).path)
    assert response.status_code == 302 and response["Location"] == "/accounts/age/"
    assert EmailAddress.objects.get(email="zoe@example.org").verified


def test_a_link_scanner_or_another_browser_confirms_nothing_by_opening_it(client, mailoutbox):
    client.post("/accounts/signup/", signup_data())
    path = urlsplit(confirmation_link(mailoutbox[0])).path
    scanner = Client()
    page = scanner.get(path)
    assert page.status_code == 200 and "Confirmer mon adresse" in page.content.decode()
    assert not EmailAddress.objects.get(email="zoe@example.org").verified
    # The person, on their other device, confirms with the button.
    assert scanner.post(path).status_code == 302
    assert EmailAddress.objects.get(email="zoe@example.org").verified


def test_the_confirmation_mail_is_branded_french_html_and_text(client, mailoutbox, settings):
    client.post("/accounts/signup/", signup_data())
    [mail] = mailoutbox
    assert mail.subject == "[Chatsite] Confirmez votre adresse e-mail"
    link = confirmation_link(mail)
    text = mail.body
    assert text.startswith("Bonjour,")
    assert "Pour finir de créer votre compte Chatsite (Zoe_75)" in text
    signature = "L'équipe de Chatsite, des salons de discussion entre adultes vérifiés, modérés."
    assert f"{signature}\n{settings.SITE_URL}" in text
    # allauth's stock text named the bare host ("Hello from 127.0.0.1:8000!").
    host = urlsplit(settings.SITE_URL).netloc
    assert "Hello" not in text and not re.search(rf"(?<!//){re.escape(host)}", text)
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html"
    assert f'<a href="{link}"' in html and "Confirmer mon adresse</a>" in html
    assert '<html lang="fr">' in html and "Chatsite" in html


def test_the_password_reset_mail_is_branded_too(client, mailoutbox, make_user):
    make_user("zoe", email="zoe@example.org")
    client.post("/accounts/password/reset/", {"email": "zoe@example.org"})
    [mail] = mailoutbox
    assert mail.subject == "[Chatsite] Choisir un nouveau mot de passe"
    assert "votre compte Chatsite" in mail.body and "/accounts/password/reset/key/" in mail.body
    [(html, _mimetype)] = mail.alternatives
    assert "Choisir un nouveau mot de passe</a>" in html


def test_the_date_of_birth_is_explained_where_it_is_asked(client):
    html = client.get("/accounts/signup/").content.decode()
    help_text = re.search(r'<small id="id_date_of_birth_helptext">(.*?)</small>', html, re.S)
    assert help_text and "jamais montrée aux membres" in help_text.group(1)
    assert "vous vérifierez ensuite votre âge une fois" in help_text.group(1)


def test_the_login_page_offers_the_password_reset_once(client):
    html = client.get("/accounts/login/").content.decode()
    assert html.count("Mot de passe oublié ?") == 1


@pytest.mark.parametrize(
    ("path", "file"),
    [
        ("/favicon.ico", "icons/favicon.ico"),
        ("/apple-touch-icon.png", "icons/apple-touch-icon.png"),
        ("/apple-touch-icon-precomposed.png", "icons/apple-touch-icon.png"),
    ],
)
def test_the_icons_are_served_at_the_root(client, path, file):
    response = client.get(path)
    assert response.status_code == 301
    assert re.fullmatch(r"/static/icons/[\w.-]+\.(ico|png)", response["Location"])
    assert finders.find(file)


def test_every_page_links_its_icons(client):
    html = client.get("/").content.decode()
    assert re.search(r'<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon', html)
    assert re.search(r'<link rel="icon" href="/static/icons/favicon[^"]*" sizes="48x48">', html)


def test_mes_decisions_joins_the_navigation_once_there_is_something(make_user, make_room):
    from moderation import actions
    from tests.moderation.conftest import post_message

    room = make_room()
    member = make_user("nouveau")
    client = Client()
    client.force_login(member)
    nav = re.compile(r'<nav class="site-nav".*?</nav>', re.S)
    assert "Mes décisions" not in nav.search(client.get("/rooms/").content.decode()).group(0)
    # Still one click away, from "Mon compte", with the sign-out that phones hide.
    profile = client.get("/accounts/profile/").content.decode()
    assert 'href="/decisions/"' in profile and "Se déconnecter" in nav.sub("", profile)
    actions.do_file_report(
        actor=member, category="spam", message=post_message(room, make_user(), "pub")
    )
    assert "Mes décisions" in nav.search(client.get("/rooms/").content.decode()).group(0)
