"""The admin in French that agrees with each model's name (accounts/admin_french.py).

Walks every page of every registered ModelAdmin (as tests/audit/test_looks.py does,
on its scenario, reasons stated in advance), plus each add form, in French, and
looks for the phrases Django's catalogue builds wrong for our model names."""

import contextlib
import re
from html import unescape

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from accounts.admin_french import FEMININE, GENDERS, noun
from tests.audit import test_looks as looks
from tests.conftest import grant_model_looks, staff_client

pytestmark = pytest.mark.django_db
# The walk of tests/audit/test_looks.py, on its scenario (one row of every model).
scenario, officer, open_request = looks.scenario, looks.officer, looks.open_request

# What Django's French catalogue wrote for our models before (issue 18, item 7).
KNOWN_BAD = [
    "Sélectionnez l\u2019objet",
    "Rechercher dans les",
    "les journal d'audit",
    "des journal d'audit",
    "Ajout de ",
    "Modification de ",
    "Affichage de ",
    "supprimer l\u2019objet",
    "Sélectionner tous les",
    "modifiez davantage",
]
# Where the admin writes its own phrases: the title, headings, buttons, filters, actions.
CHROME = re.compile(
    r"<title>(.*?)</title>|<h1[^>]*>(.*?)</h1>|<h2[^>]*>(.*?)</h2>|<summary[^>]*>(.*?)</summary>"
    r"|<option[^>]*>(.*?)</option>|<a[^>]*class=\"[^\"]*addlink[^\"]*\"[^>]*>(.*?)</a>"
    r"|<p>(.*?)</p>|<span class=\"small quiet\">(.*?)</span>",
    re.S,
)
MISSED_ELISION = re.compile(r"\b(?:le|la|de) [aàâeéèêiîoôuûh]", re.IGNORECASE)


def chrome(html: str) -> list[str]:
    found = []
    for groups in CHROME.findall(html):
        for text in groups:
            text = " ".join(unescape(re.sub(r"<[^>]+>", " ", text)).split())
            if text:
                found.append(text)
    return found


def agreement_errors(text: str) -> list[str]:
    errors = []
    for model in admin.site._registry:
        name = noun(model._meta)
        if name.feminine:
            wrong = (f"un {name.singular} ", f"le {name.singular}", f"Ajouter {name.singular}")
        else:
            wrong = (f"une {name.singular} ", f"la {name.singular}", f"Ajouter {name.singular}")
        errors += [phrase for phrase in wrong if phrase in text]
    return errors


def test_every_admin_model_declares_its_gender():
    missing = [
        model._meta.label_lower
        for model in admin.site._registry
        if model._meta.label_lower not in GENDERS
    ]
    assert missing == [], "declare them in accounts/admin_french.py GENDERS"


def test_walking_every_admin_page_in_french_finds_none_of_the_known_bad_phrases(
    scenario, make_staff
):
    client = grant_model_looks(staff_client(make_staff("admin")))
    problems, walked = [], 0
    for model, model_admin in admin.site._registry.items():
        urls = looks._admin_urls(model_admin, model)
        with contextlib.suppress(NoReverseMatch):
            add = f"admin:{model._meta.app_label}_{model._meta.model_name}_add"
            urls.append(("add", reverse(add)))
        for _name, url in urls:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
            if response.status_code != 200 or response.get("Content-Type", "").find("html") < 0:
                continue
            walked += 1
            for text in chrome(response.content.decode()):
                problems += [(url, bad, text) for bad in KNOWN_BAD if bad in text]
                problems += [(url, "accord", text) for _bad in agreement_errors(text)]
                if MISSED_ELISION.search(text) and text.startswith(
                    ("Ajouter", "Modifier", "Consulter", "Voulez", "Choisissez")
                ):
                    problems.append((url, "élision", text))
    assert walked > 60
    assert problems == []


def test_titles_agree_with_the_gender_and_english_keeps_djangos_wording(scenario, make_staff):
    client = grant_model_looks(staff_client(make_staff("admin")))
    sanctions = client.get(reverse("admin:moderation_sanction_changelist")).text
    assert "<h1>Choisissez une sanction à modifier</h1>" in sanctions
    assert "Ajouter une sanction" in sanctions
    entries = client.get(reverse("admin:audit_auditentry_changelist")).text
    assert "Choisissez une entrée du journal d&#x27;audit à consulter" in entries
    assert "Rechercher parmi les entrées du journal d&#x27;audit" in entries
    entry = client.get(reverse("admin:audit_auditentry_change", args=[1])).text
    assert "Consulter l&#x27;entrée du journal d&#x27;audit" in entry
    group = client.get(reverse("admin:auth_group_delete", args=[1])).text
    assert "Voulez-vous vraiment supprimer le groupe « " in group
    # A page's own title is its own.
    queue = client.get(reverse("admin:moderation_report_changelist")).text
    assert "<h1>File de modération</h1>" in queue
    english = client.get(reverse("admin:moderation_sanction_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert "<h1>Select sanction to change</h1>" in english.text
    assert "Add sanction" in english.text


def test_the_delete_selected_action_agrees_with_the_model(scenario, make_staff):
    client = grant_model_looks(staff_client(make_staff("admin")))
    addresses = client.get(reverse("admin:account_emailaddress_changelist")).text
    assert "Supprimer les adresses e-mail sélectionnées" in addresses
    groups = client.get(reverse("admin:auth_group_changelist")).text
    assert "Supprimer les groupes sélectionnés" in groups
    assert (
        noun(
            next(
                m for m in admin.site._registry if m._meta.label_lower == "account.emailaddress"
            )._meta
        ).gender
        == FEMININE
    )
