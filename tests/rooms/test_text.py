import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from rooms.text import clean_body, strip_control_characters


def test_control_characters_are_stripped_line_breaks_kept():
    assert strip_control_characters("a\x00b\x07c\x1b[31m\x7f") == "abc[31m"
    assert strip_control_characters("ligne 1\r\nligne 2\rligne 3\tfin") == (
        "ligne 1\nligne 2\nligne 3\tfin"
    )
    assert strip_control_characters("abc\u202edef\u2066") == "abcdef"


def _kept_by_category(char: str) -> bool:
    """The rule as it was written before issue 20, one category look-up per character."""
    bidi_controls = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    return char in {"\n", "\t"} or (
        unicodedata.category(char) not in ("Cc", "Cs") and char not in bidi_controls
    )


def test_the_regular_expression_strips_exactly_what_the_category_rule_did():
    """Over every code point (\\r aside: it becomes a line break)."""
    everything = "".join(chr(point) for point in range(sys.maxunicode + 1) if point != 0x0D)
    expected = "".join(char for char in everything if _kept_by_category(char))
    assert strip_control_characters(everything) == expected


def test_clean_body_trims_and_shortens_blank_runs():
    assert clean_body("  \n\n bonjour \n\n\n\n\n toi \n ") == "bonjour \n\n toi"
    assert clean_body("\x00\x01 \n") == ""


def test_html_is_kept_as_text():
    assert clean_body("<img src=x onerror=alert(1)>") == "<img src=x onerror=alert(1)>"


@given(st.text())
def test_cleaned_text_has_no_control_character_but_line_breaks_and_tabs(text):
    import unicodedata

    cleaned = clean_body(text)
    assert all(char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cs") for char in cleaned)
    assert cleaned == cleaned.strip()
    assert clean_body(cleaned) == cleaned
