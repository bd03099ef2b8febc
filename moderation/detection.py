"""Text patterns of the automatic filters and of the safety signals.

Pure functions of the text: the checks (moderation/policy_hooks.py) decide what
to do with a match. Patterns are written for French chat as it is typed:
no accents, abbreviations, spaces or dots inside phone numbers.
"""

import re
import unicodedata
from functools import lru_cache

# 06 12 34 56 78, 06.12.34.56.78, 0612345678, +33 6 12 34 56 78, 0033612345678.
FRENCH_PHONE = re.compile(r"(?<!\d)(?:(?:\+|00)33[\s.-]?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# "snap: pseudo", "insta @pseudo", "telegram : pseudo", or a bare @handle.
MESSAGING_APPS = (
    r"snap(?:chat)?|whats\s?app|wh?atsap+|telegram|t\.me|insta(?:gram)?|discord|kik|wickr|"
    r"signal|tiktok|messenger|facebook|fb|skype|viber|wire|threema|session"
)
MESSAGING_APP = re.compile(rf"\b(?:{MESSAGING_APPS})\b", re.IGNORECASE)
MESSAGING_HANDLE = re.compile(
    rf"(?:\b(?:{MESSAGING_APPS})\b\s*[:=]?\s*@?[\w.-]{{3,}})|(?<![\w@])@[A-Za-z_][\w.]{{2,}}",
    re.IGNORECASE,
)
LINK = re.compile(
    r"(?:https?://|www\.)([^\s/?#]+)|\b([a-z0-9-]+\.(?:com|fr|net|org|io|me|gg|ly))\b",
    re.IGNORECASE,
)

# An invitation to carry on elsewhere, next to an app's name.
MOVE_INVITATION = re.compile(
    r"\b(?:ajoute|ajouter|rajoute|add|viens|venez|vien|passe|passons|passer|on continue|"
    r"continuer|ecris|ecrire|contacte|parle|parler|ton|ta|mon|ma|t'as|tas|tu as|as tu|"
    r"t'es sur|tes sur|dm|mp|rejoins)\b",
    re.IGNORECASE,
)
# Asking to meet in person.
MEETUP = re.compile(
    r"\b(?:rdv|rendez[\s-]?vous|se voir|on se voit|se retrouver|on se retrouve|"
    r"retrouve[sz]?[\s-]moi|"
    r"rejoins[\s-]moi|viens chez moi|chez moi|passe me voir|je t'attends|je t attends|"
    r"mon adresse|voici l'adresse|a la sortie|devant le)\b",
    re.IGNORECASE,
)
STREET_ADDRESS = re.compile(
    r"\b\d{1,4}\s*(?:bis|ter)?\s*,?\s*(?:rue|avenue|av|bd|boulevard|place|pl|chemin|allee|impasse|"
    r"quai|route|cours|square|passage|residence|cite)\b",
    re.IGNORECASE,
)
POSTCODE_CITY = re.compile(r"\b(?:75|69|13|[0-9]{2})\d{3}\s+[A-Za-z][a-z-]+", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case without accents: "Rendez-vous à l'école" -> "rendez-vous a l'ecole"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def contact_details(text: str) -> list[str]:
    """What in the text looks like a phone number, an e-mail address or a messaging handle."""
    found = []
    for pattern in (FRENCH_PHONE, EMAIL_ADDRESS, MESSAGING_HANDLE):
        found += [match.group(0) for match in pattern.finditer(text)]
    return found


def link_domains(text: str) -> list[str]:
    return [(match.group(1) or match.group(2)).lower() for match in LINK.finditer(text)]


def words_found(text: str, words: str) -> list[str]:
    """The listed words (one per line) that the text contains as whole words,
    compared without case or accents."""
    folded = fold(text)
    found = []
    for word in words.splitlines():
        word = fold(word.strip())
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded):
            found.append(word)
    return found


@lru_cache(maxsize=256)
def compiled(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None


def regex_found(text: str, patterns: str) -> list[str]:
    found = []
    for line in patterns.splitlines():
        line = line.strip()
        regex = compiled(line) if line else None
        if regex is not None and regex.search(text):
            found.append(line)
    return found


def disallowed_links(text: str, allowed_domains: str) -> list[str]:
    allowed = {line.strip().lower() for line in allowed_domains.splitlines() if line.strip()}
    return [
        domain
        for domain in link_domains(text)
        if not any(domain == ok or domain.endswith("." + ok) for ok in allowed)
    ]


def asks_to_move_to_other_app(text: str) -> bool:
    folded = fold(text)
    return bool(MESSAGING_APP.search(folded) and MOVE_INVITATION.search(folded))


def asks_to_meet_with_contact(text: str) -> bool:
    folded = fold(text)
    if not MEETUP.search(folded):
        return False
    return bool(
        STREET_ADDRESS.search(folded) or POSTCODE_CITY.search(folded) or FRENCH_PHONE.search(text)
    )
