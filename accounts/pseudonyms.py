"""Pseudonym rules: the public name a member is known by.

3 to 30 characters (letters, digits, `_`, `-`, `.`), unique whatever the case,
and never a look-alike of a staff title: "Adm1n", "modérateur", "s.u.p.p.o.r.t"
would let anyone pass for the platform, so they are compared after folding
accents, digits-for-letters and separators away.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PSEUDONYM_MIN_LENGTH = 3
PSEUDONYM_MAX_LENGTH = 30
# \w admits letters of every script (é, ç), digits and "_"; "." and "-" are added.
_ALLOWED_CHAR = re.compile(r"[\w.-]", re.UNICODE)

# Words only staff may look like, already in folded form (see fold_pseudonym).
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

# Digits and symbols commonly used for letters ("adm1n", "$upport", "m0d").
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


def fold_pseudonym(value: str) -> str:
    """The skeleton compared against reserved words: lower case, no accents,
    digits read as letters, separators removed, repeated letters collapsed."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.casefold().translate(_LOOKALIKES)
    text = re.sub(r"[^a-z]", "", text)
    # "l" and "i" are interchangeable to the eye ("admln"), as are doubled letters.
    text = text.replace("l", "i")
    return re.sub(r"(.)\1+", r"\1", text)


_FOLDED_RESERVED = tuple(
    {re.sub(r"(.)\1+", r"\1", word.replace("l", "i")) for word in RESERVED_WORDS}
)


def looks_like_staff(value: str) -> bool:
    folded = fold_pseudonym(value)
    return any(word in folded for word in _FOLDED_RESERVED)


def validate_pseudonym(value: str) -> None:
    """Raises ValidationError with a message the member can act on."""
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
