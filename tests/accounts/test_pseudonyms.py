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
    assert fold_pseudonym("M0-dé.r4teur") == fold_pseudonym("moderateur")
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


# --- UTS #39 skeletons (issue 15) --------------------------------------------------------
# Written with escapes: \u0430 is CYRILLIC SMALL LETTER A, \u0441 CYRILLIC SMALL
# LETTER ES, \u0405 CYRILLIC CAPITAL LETTER DZE (which looks like S).
CYRILLIC_ADMIN_JULIE = "\u0430dmin_julie"
CYRILLIC_SUPPORT = "\u0405upport"
CYRILLIC_CAMILLE = "\u0441\u0430mille"


def test_the_skeleton_is_unicodes_uts39_one():
    from accounts.pseudonyms import pseudonym_key, skeleton

    # Examples of UTS #39 itself and of confusables.txt.
    assert skeleton("\u0430") == "a"  # Cyrillic a
    assert skeleton("\u0405") == "S"
    assert skeleton("m") == "rn"  # the table's prototype of m
    assert skeleton("g\u03bfogle") == skeleton("google")  # Greek omicron
    assert pseudonym_key(CYRILLIC_CAMILLE) == pseudonym_key("camille") == pseudonym_key("CamilIe")
    assert pseudonym_key("camille") != pseudonym_key("camilla")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (CYRILLIC_ADMIN_JULIE, "reserved"),
        (CYRILLIC_SUPPORT, "reserved"),
        ("\u0455taff", "reserved"),  # Cyrillic dze, lower case
        (CYRILLIC_CAMILLE, "mixed_script"),
        ("Alloτ", "mixed_script"),
    ],
)
def test_look_alikes_in_other_scripts_are_refused(name, code):
    with pytest.raises(ValidationError) as error:
        validate_pseudonym(name)
    assert error.value.code == code


@pytest.mark.parametrize("name", ["\u0441\u0430\u0448\u0430", "山田たろう", "Ελένη", "Ñandú_2"])
def test_one_script_names_of_any_script_pass(name):
    validate_pseudonym(name)


@pytest.mark.django_db
def test_signup_refuses_a_look_alike_of_a_member_with_a_clear_message(client, make_user):
    make_user("camille")
    from tests.accounts.test_signup import signup_data

    for name in ("Camille", "camilIe", CYRILLIC_CAMILLE, "\u0441\u0430\u043cille"):
        response = client.post("/accounts/signup/", signup_data(username=name))
        assert response.status_code == 200, name
        errors = response.context["form"].errors["username"]
        assert errors, name
    page = client.post("/accounts/signup/", signup_data(username="camilIe")).content.decode()
    assert "ressemble trop à un pseudonyme existant" in page
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.count() == 1
    # An unrelated name still signs up.
    response = client.post("/accounts/signup/", signup_data(username="camillo"))
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_closed_accounts_pseudonym_stays_reserved(client, make_user):
    from accounts.actions import do_request_account_deletion
    from tests.accounts.test_signup import signup_data

    leaving = make_user("Margot")
    do_request_account_deletion(leaving, actor=leaving)
    leaving.username = "deleted_0123456789ab"  # what the completer does to the account
    leaving.save(update_fields=["username"])
    response = client.post("/accounts/signup/", signup_data(username="margot"))
    assert response.status_code == 200
    assert "ressemble trop à un pseudonyme existant" in response.content.decode()


@pytest.mark.django_db
def test_every_account_carries_its_key(make_user):
    user = make_user("Zoe_75")
    assert user.pseudonym_key == "zoe_75"
    user.username = "\u0441\u0430\u0448\u0430"
    user.save(update_fields=["username"])
    user.refresh_from_db()
    assert user.pseudonym_key == "ca\u0448a"  # Cyrillic es has the skeleton c
