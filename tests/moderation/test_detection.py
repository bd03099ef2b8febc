"""The text patterns of filters and safety signals."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation import detection


@pytest.mark.parametrize(
    "text",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "+33 6 12 34 56 78",
        "0033612345678",
        "01-45-67-89-10",
    ],
)
def test_french_phone_numbers(text):
    assert detection.contact_details(f"appelle {text} ce soir")


@pytest.mark.parametrize("text", ["j'ai 12 ans", "le 2024 était dur", "1234567", "06 12 34"])
def test_not_phone_numbers(text):
    assert not detection.FRENCH_PHONE.search(text)


def test_emails_and_handles():
    assert detection.contact_details("écris à moi.meme+chat@exemple.fr")
    assert detection.contact_details("mon snap : lea_92")
    assert detection.contact_details("suis moi @lea.paris")
    assert not detection.contact_details("bonjour à tous, ça va ?")


@pytest.mark.parametrize(
    "text",
    [
        "ajoute moi sur snap",
        "t'as whatsapp ?",
        "on continue sur Télégram",
        "viens sur insta",
        "passe sur discord",
    ],
)
def test_moving_to_another_app(text):
    assert detection.asks_to_move_to_other_app(text)


@pytest.mark.parametrize("text", ["j'ai vu un reportage sur la sécurité", "ton avis ?"])
def test_not_moving_to_another_app(text):
    assert not detection.asks_to_move_to_other_app(text)


@pytest.mark.parametrize(
    "text",
    [
        "rdv au 3 bis avenue Jean Jaurès",
        "Rendez-vous 12 rue de la Paix demain",
        "viens chez moi, appelle le 06 12 34 56 78",
        "on se retrouve à 75011 Paris",
    ],
)
def test_meetup_with_contact(text):
    assert detection.asks_to_meet_with_contact(text)


@pytest.mark.parametrize("text", ["on se voit demain ?", "j'habite 12 rue des Lilas"])
def test_not_meetup_with_contact(text):
    assert not detection.asks_to_meet_with_contact(text)


def test_words_are_whole_words_without_case_or_accents():
    assert detection.words_found("Quel CONNÂRD", "connard") == ["connard"]
    assert detection.words_found("Saint-Tropez", "trop") == []


def test_invalid_regex_lines_are_ignored():
    assert detection.regex_found("abc", "([\nb+") == ["b+"]


def test_links_outside_the_allowed_domains():
    text = "https://fr.wikipedia.org/wiki/X et www.arnaque.biz et exemple.fr"
    assert detection.disallowed_links(text, "wikipedia.org") == ["arnaque.biz", "exemple.fr"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_detection_takes_any_text(text):
    # Hostile input: whatever a member types, the patterns answer, never raise.
    detection.contact_details(text)
    detection.link_domains(text)
    detection.asks_to_move_to_other_app(text)
    detection.asks_to_meet_with_contact(text)
    detection.words_found(text, "mot\nautre mot")
