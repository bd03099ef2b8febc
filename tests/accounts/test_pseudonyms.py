import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from accounts.pseudonyms import fold_pseudonym, looks_like_staff, validate_pseudonym


@pytest.mark.parametrize("name", ["alice", "Zoé_75", "jean-marc.dupont", "abc", "x" * 30, "Ñandú"])
def test_ordinary_pseudonyms_pass(name):
    validate_pseudonym(name)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ab", "length"),
        ("x" * 31, "length"),
        ("with space", "characters"),
        ("bob@home", "characters"),
        ("<script>", "characters"),
        ("emoji😀", "characters"),
        ("admin", "reserved"),
        ("Adm1n", "reserved"),
        ("a.d.m.i.n", "reserved"),
        ("ADMLN_42", "reserved"),
        ("modérateur", "reserved"),
        ("Moderat0r", "reserved"),
        ("le_modo", "reserved"),
        ("5upport-team", "reserved"),
        ("suppport", "reserved"),
        ("staff_julie", "reserved"),
        ("5taff", "reserved"),
        ("Chatsite_officiel", "reserved"),
    ],
)
def test_refusals_have_their_own_code(name, code):
    with pytest.raises(ValidationError) as error:
        validate_pseudonym(name)
    assert error.value.code == code


def test_folding_reads_digits_accents_and_separators():
    assert fold_pseudonym("M0-dé.r4teur") == "moderateur"
    assert looks_like_staff("S_U_P_P_O_R_T")
    assert not looks_like_staff("marguerite")


@given(st.text(min_size=3, max_size=30))
def test_validation_never_crashes_and_accepts_only_allowed_characters(name):
    try:
        validate_pseudonym(name)
    except ValidationError:
        return
    assert all(char.isalnum() or char in "_-." for char in name)
    assert not looks_like_staff(name)
