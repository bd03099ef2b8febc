"""The community rules and terms of use: numbered clauses with stable codes,
one anchor each, public pages in French and English (moderation/rules.py)."""

import re

import pytest
from django.urls import reverse

from moderation import rules
from moderation.models import CATEGORY_GROUND, Ground, Sanction

pytestmark = pytest.mark.django_db


def anchors(html: str) -> list[str]:
    return re.findall(r'<li id="([^"]+)">', html)


def test_codes_are_unique_stable_and_in_order():
    for clauses, prefix in ((rules.RULES, "R"), (rules.TERMS, "T")):
        codes = [clause.code for clause in clauses]
        assert codes == [f"{prefix}{number}" for number in range(1, len(codes) + 1)]
    all_codes = [clause.code for clause in (*rules.RULES, *rules.TERMS)]
    assert len(all_codes) == len(set(all_codes))


@pytest.mark.parametrize(("url", "clauses"), [("/rules/", rules.RULES), ("/terms/", rules.TERMS)])
def test_every_clause_has_one_anchor_on_its_page(client, url, clauses):
    html = client.get(url).content.decode()
    # The anchor is the <li> itself: site.css highlights `ol.clauses > li:target`.
    assert '<ol class="clauses coded">' in html
    assert anchors(html) == [clause.code for clause in clauses]
    for clause in clauses:
        assert f'href="#{clause.code}"' in html  # from the table of contents
        assert clause.get_absolute_url() == f"{url}#{clause.code}"


def test_url_names():
    assert reverse("rules") == "/rules/"
    assert reverse("terms") == "/terms/"


@pytest.mark.parametrize("url", ["/rules/", "/terms/"])
def test_english_rendering_keeps_the_structure(client, url):
    french = client.get(url).content.decode()
    response = client.get(url, headers={"accept-language": "en"})
    assert response.status_code == 200
    english = response.content.decode()
    assert '<html lang="en">' in english
    # Same clauses, same anchors: a link in an English mail lands on the same clause.
    assert anchors(english) == anchors(french)


def test_rules_cover_what_the_community_needs(client):
    """Each topic the issue names, found in the French text of a citable rule."""
    text = {
        clause.code: " ".join(map(str, (clause.title, *clause.paragraphs, *clause.items)))
        for clause in rules.RULES
    }
    expected = {
        "R1": ["18 ans", "vérifi"],
        "R2": ["mineur", "PHAROS"],
        "R3": ["menace", "violence"],
        "R4": ["harcèlement"],
        "R5": ["haine", "homophobie", "discrimination"],
        "R6": ["adresse", "téléphone"],
        "R7": ["guet-apens", "rendez-vous"],
        "R8": ["images intimes", "sans son accord"],
        "R9": ["argent", "hameçonnage"],
        "R10": ["publicité", "flood"],
        "R11": ["loi"],
        "R12": ["un seul compte", "l'équipe de Chatsite"],
        "R14": ["avertissement", "sourdine", "bannissement"],
        "R15": ["exposé des motifs"],
        "R16": ["six mois", "autre modérateur"],
    }
    for code, words in expected.items():
        for word in words:
            assert word in text[code], (code, word)


def test_citable_rules_are_the_clause_choices():
    codes = [code for code, _label in Sanction._meta.get_field("clause").choices]
    assert codes == [f"R{number}" for number in range(1, 13)]
    # Describing clauses (how to report, appeals) are not grounds for a measure.
    assert "R13" not in codes and "R16" not in codes
    # Terms describe, except T14: cited by the Art. 23 procedure alone
    # (moderation/actions/misuse.py), never offered to moderators above.
    assert [clause.code for clause in rules.TERMS if clause.citable] == ["T14"]


def test_every_report_category_leads_to_a_rule():
    for category, ground in CATEGORY_GROUND.items():
        if ground == Ground.TERMS_OTHER:
            continue
        code = rules.default_clause(ground)
        cited = rules.clause(code)
        assert cited is not None and cited.citable, category
        assert cited.ground == ground or ground == Ground.ILLEGAL
    assert rules.default_clause(Ground.TERMS_OTHER) == ""
    assert rules.default_clause(None) == ""


def test_clause_links_resolve(client):
    for clause in (*rules.RULES, *rules.TERMS):
        for _label, url_name in clause.links:
            assert reverse(url_name)
    html = client.get("/terms/").content.decode()
    assert 'href="/legal/"' in html and 'href="/privacy/"' in html
