"""The guided path (sign-up, e-mail, age) with its progress indicator, the
welcome tour, and the home page that leads into them (docs/pages.md)."""

import re
from html import unescape

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def current_step(html: str) -> str | None:
    """The label of the step marked aria-current="step", or None."""
    match = re.search(r'<li aria-current="step">(?:<a [^>]*>)?([^<]+)<', html)
    return match.group(1) if match else None


def done_steps(html: str) -> list[str]:
    return re.findall(r'<li class="done">(?:<a [^>]*>)?([^<]+)<', html)


def test_signup_is_step_1_of_3_and_states_the_rules(client):
    html = unescape(client.get("/accounts/signup/").content.decode())
    assert "Inscription : étape 1 sur 3" in html
    assert current_step(html) == "Créer le compte"
    assert done_steps(html) == []
    assert "Vérifier l'âge" in html  # every step is named
    assert 'href="/rules/"' in html and 'href="/terms/"' in html and 'href="/privacy/"' in html
    # No extra required field: the contract's five fields sign up (see test_signup).
    assert 'type="checkbox"' not in html


def test_after_signup_the_mail_step_is_current(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "ines@example.org",
            "username": "Ines_B",
            "password1": "Tr3s-long-mot-de-passe!",
            "password2": "Tr3s-long-mot-de-passe!",
            "date_of_birth": "1990-01-01",
        },
        follow=True,
    )
    html = unescape(response.content.decode())
    assert response.redirect_chain[-1][0] == "/accounts/confirm-email/"
    assert "étape 2 sur 3" in html
    assert current_step(html) == "Confirmer l'e-mail"
    assert done_steps(html) == ["Créer le compte"]


def test_an_invalid_confirmation_link_says_what_to_do(client):
    html = unescape(client.get("/accounts/confirm-email/not-a-key/").content.decode())
    assert "étape 2 sur 3" in html
    assert "expiré" in html and 'href="/accounts/login/"' in html


def test_age_page_is_step_3_until_verified(make_user):
    html = unescape(signed_in(make_user(age_verified=False)).get("/accounts/age/").content.decode())
    assert "étape 3 sur 3" in html
    assert current_step(html) == "Vérifier l'âge"
    assert done_steps(html) == ["Créer le compte", "Confirmer l'e-mail"]
    assert "Pourquoi vérifier l'âge" in html
    verified = unescape(signed_in(make_user()).get("/accounts/age/").content.decode())
    assert "étape 3 sur 3" not in verified
    assert 'href="/accounts/tour/"' in verified


def test_document_upload_is_step_3(make_user):
    client = signed_in(make_user(age_verified=False))
    html = unescape(client.get("/accounts/age/document/").content.decode())
    assert current_step(html) == "Vérifier l'âge"


def test_login_page_explains_the_path(client):
    html = unescape(client.get("/accounts/login/").content.decode())
    assert 'name="login"' in html and 'name="password"' in html
    assert 'href="/accounts/signup/"' in html
    assert "trois étapes" in html


TOUR = [(1, "Salons et messages privés"), (2, "Bloquer ou ignorer"), (3, "Signaler, alerter")]


@pytest.mark.parametrize(("step", "title"), TOUR)
def test_the_tour_has_three_illustrated_steps_each_with_passer(make_user, step, title):
    client = signed_in(make_user())
    url = "/accounts/tour/" if step == 1 else f"/accounts/tour/{step}/"
    html = unescape(client.get(url).content.decode())
    assert f'<h1 id="tour-title">{title}</h1>' in html
    assert f"<title>{title} ({step}/3)" in html  # the progress in the tab's title too
    assert f"Visite guidée : {step} sur 3" in html
    assert len(done_steps(html)) == step - 1 and current_step(html) == title
    # "Passer", on every screen, goes straight to the rooms; its name says where.
    assert re.search(
        r'<a class="tour-skip" href="/rooms/">Passer<span class="visually-hidden"> '
        r"la visite</span></a>",
        html,
    )
    # One picture per screen, drawn inline (no request, CSP-safe) and hidden from
    # screen readers: the text says it all.
    tour = html.split('<section class="onboarding tour"')[1]
    [svg] = re.findall(r"<svg [^>]*>", tour)
    assert 'aria-hidden="true"' in svg and 'focusable="false"' in svg
    assert "style=" not in tour
    if step < 3:
        assert f'href="/accounts/tour/{step + 1}/" rel="next"' in html
        assert "Aller aux salons" not in html
    else:
        assert 'rel="next"' not in html
        assert '<a class="button" href="/rooms/">Aller aux salons</a>' in html


def test_the_tour_keeps_its_promises(make_user):
    """What the old five screens said, still said, and still true of the
    product (each claim's test: tests/browser/test_steps.py for blocking,
    tests/moderation for reports and alerts)."""
    client = signed_in(make_user())
    text = " ".join(
        unescape(client.get(f"/accounts/tour/{step}/").content.decode()) for step in (1, 2, 3)
    )
    for claim in (
        "premier message arrive comme une demande",
        'href="/accounts/profile/"',  # who may write to you
        "il ne peut plus vous écrire en privé, vos échanges restent lisibles mais fermés",
        "ses messages sont repliés dans les salons publics",
        "Il n'en reçoit aucun avis",
        "« Ignorer »",
        "bouton « Signaler »",
        "La personne signalée ne sait pas qui l'a signalée",
        'href="/decisions/"',
        "bouton « Alerte »",
        "la modération prévient les autorités",
        "appelez le 17 (police) ou le 112",
        'href="/rules/#R7"',
    ):
        assert claim in text, claim


def test_the_tour_walks_to_the_rooms_without_javascript(make_user):
    """Plain links from the first screen to the rooms: a browser without
    JavaScript (this test client) takes the same path."""
    client = signed_in(make_user())
    url, seen = "/accounts/tour/", []
    while True:
        html = unescape(client.get(url).content.decode())
        seen.append(re.search(r'<h1 id="tour-title">([^<]+)</h1>', html).group(1))
        following = re.search(r'<a class="button" href="([^"]+)" rel="next">Suivant</a>', html)
        if following is None:
            break
        url = following.group(1)
    assert seen == [title for _step, title in TOUR]
    end = re.search(r'<a class="button" href="([^"]+)">Aller aux salons</a>', html).group(1)
    assert client.get(end).status_code == 200 and end == "/rooms/"


def test_the_tour_needs_an_account_and_stops_at_three(client, make_user):
    response = client.get("/accounts/tour/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert signed_in(make_user()).get("/accounts/tour/4/").status_code == 404
    assert signed_in(make_user()).get("/accounts/tour/0/").status_code == 404


def test_the_profile_links_the_tour_again(make_user):
    html = unescape(signed_in(make_user()).get("/accounts/profile/").content.decode())
    assert 'href="/accounts/tour/"' in html
    assert 'href="/api/me/export/"' in html


def test_home_says_what_chatsite_is_and_how_it_keeps_people_safe(client, make_user):
    html = unescape(client.get("/").content.decode())
    for words in ("salons thématiques", "double anonymat", "Signaler", "Alerte", "modérateurs"):
        assert words in html
    assert 'href="/accounts/signup/"' in html and 'href="/rules/"' in html
    # Each visitor gets the next step that applies to them.
    unverified = unescape(signed_in(make_user(age_verified=False)).get("/").content.decode())
    assert 'class="button" href="/accounts/age/"' in unverified
    member = unescape(signed_in(make_user()).get("/").content.decode())
    assert 'class="button" href="/rooms/"' in member


def test_every_footer_links_the_reference_pages(client):
    html = unescape(client.get("/").content.decode())
    footer = html[html.index('class="site-footer"') :]
    for url in (
        "/rules/",
        "/terms/",
        "/privacy/",
        "/legal/",
        "/authorities/",
        "/transparency/",
        "/notice/",
    ):
        assert f'href="{url}"' in footer
