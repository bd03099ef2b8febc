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


# A handle given with its app's name: "snap: pseudo", "insta @pseudo", "snap lea_92"
# (a plain word after the name, "sur facebook hier", is not a handle).
NAMED_HANDLE = re.compile(
    rf"\b(?:{MESSAGING_APPS})\b"
    r"(?:\s*(?:[:=]\s*@?|@)[\w.-]{3,}|\s+(?=[\w.-]*[\d_.])[\w.-]{3,})",
    re.IGNORECASE,
)


def contact_details(text: str, *, bare_handles: bool = True) -> list[str]:
    """What in the text looks like a phone number, an e-mail address or a messaging handle.

    `bare_handles=False`: a lone @name is not counted (on Chatsite it is a mention)."""
    found = []
    handles = MESSAGING_HANDLE if bare_handles else NAMED_HANDLE
    for pattern in (FRENCH_PHONE, EMAIL_ADDRESS, handles):
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


def asks_to_move_to_other_app(text: str, folded: str | None = None) -> bool:
    """`folded`: the text already folded (the post path folds once for every signal)."""
    folded = fold(text) if folded is None else folded
    return bool(MESSAGING_APP.search(folded) and MOVE_INVITATION.search(folded))


def has_address_or_phone(text: str, folded: str) -> bool:
    return bool(
        STREET_ADDRESS.search(folded) or POSTCODE_CITY.search(folded) or FRENCH_PHONE.search(text)
    )


def asks_to_meet_with_contact(text: str, folded: str | None = None) -> bool:
    folded = fold(text) if folded is None else folded
    return bool(MEETUP.search(folded)) and has_address_or_phone(text, folded)


# --- child safety: self-declared minors, sextortion, requests to a minor -----------------------
#
# Matched on `chat_fold(text)`: lower case, no accents, straight apostrophes, one
# space. Each signal is one compiled alternation, searched once per message (the
# post path runs it on every message). Precision and recall are measured on a
# labelled set of French snippets (moderation/data/child_safety_fr.tsv,
# `manage.py measure_safety_signals`, docs/moderation.md).

# Typographic apostrophes (phones type U+2019) and their look-alikes.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_SPACES = re.compile(r"\s+")

# 10 to 17, in digits or words.
_MINOR_AGE = (
    r"(?:(?<![\d,.])1[0-7](?![\d,.]\d)|onze|douze|treize|quatorze|quinze|seize|dix[\s-]?sept)"
)
# "ans" but not a length of time: "14 ans d'experience", "14 ans de mariage", "de plus".
_YEARS_OLD = (
    r"\s?(?:ans|an|a|ams)\b"
    r"(?!\s?(?:de\s|d'|d\s|du\s|que\b|qu'|deja\b|depuis\b|plus\s+tot))"
)
# First person, as typed: "j'ai", "jai", "j ai", "g", "j'aurai", "je vais avoir".
_I_HAVE = (
    r"(?:\bj'?\s?ai|\bjai|\bg|\bmoi\s(?:j'?\s?ai|jai|g|c'?\s?est|c)|\bj'?\s?aurai[st]?|"
    r"\bje\s(?:vais|vai)\s(?:avoir|avoire)|\bj'?\s?vais\savoir|\bbientot|\bpresque)"
)
_I_AM = r"(?:\bje\s?suis|\bjsuis|\bj'?\s?suis|\bchui[sz]?|\bchuis|\bjss|\bjsui)"
_SCHOOL_YEAR = (
    r"(?:[3456]\s?(?:e|eme|em|ieme)\b|(?:sixieme|cinquieme|quatrieme|troisieme)\b|"
    r"cm[12]\b|(?:seconde|2nde|1ere|premiere|terminale|tle)\b"
    r"(?!\s?(?:annee|ligne|position|place|partie|main|fois|page|classe\sen|div|zone|semaine)))"
)
SELF_DECLARED_MINOR = re.compile(
    "|".join(
        (
            # "j'ai 14 ans", "jai 13ans", "g 15 ans", "je vais avoir 16 ans".
            rf"{_I_HAVE}\s?{_MINOR_AGE}{_YEARS_OLD}",
            # "14 ans et toi ?", "moi 15 ans", at the start of the message or a clause.
            rf"(?:^|[.!?;:,]\s?|\bmoi,?\s|\bbah\s|\bben\s)(?P<age_only>{_MINOR_AGE}){_YEARS_OLD}"
            r"(?!\s?(?:plus\stard|apres|avant|plus\stot))",
            # The "asv" answer: "14 f paris", "15/h/lyon", "16 ans f".
            rf"(?:^|\basv\s?[:?]?\s?(?:moi\s)?)(?:asv\s?[:?]?\s?)?{_MINOR_AGE}(?:\s?ans)?\s?[/,-]?\s?(?:f|h|g|m|fille|gars|garcon|mec|meuf)\b",
            # "je suis mineure", "jsuis pas majeur", "je suis encore mineur".
            rf"{_I_AM}\s(?:encore\s|qu'une?\s|une?\s)?mineure?s?\b",
            rf"{_I_AM}\s(?:pas|pa|po)\s(?:encore\s)?majeure?s?\b",
            r"\bpas\sencore\s(?:18|dix[\s-]huit)\s?ans\b",
            # "je suis en 4e", "jsuis en troisieme", "je suis au college", "je vais au college".
            rf"{_I_AM}\s(?:en\s|en\sclasse\sde\s){_SCHOOL_YEAR}",
            rf"(?:{_I_AM}|\bje\svais|\bjvais|\bj'?\s?vais|\bje\sretourne)\s(?:au|o)\s(?:college|clg)\b",
            rf"{_I_AM}\s(?:au|o)\slycee\b(?!\s(?:pour|comme|en\stant))",
            r"\bmon\s(?:college|clg)\b",
            # "nee en 2012", "je suis de 2011": the year is checked against today.
            rf"(?:{_I_AM}\s|\bmoi\s|^|[.!?;,]\s?)nee?s?\s(?:en\s|le\s\d{{1,2}}(?:er)?\s[a-z]+\s)(?P<born>20[0-2]\d)\b",
            rf"(?:{_I_AM}|\bmoi)\s(?:de|d')\s?(?P<born_of>20[0-2]\d)\b",
        )
    )
)

# Sextortion: a threat to spread intimate images, a demand for money or more images.
_SPREAD = (
    r"(?:diffuse|diffuser|diffuserai|balance|balancer|balancerai|publie|publier|publierai|"
    r"poste|poster|posterai|partage|partager|partagerai|envoie|envoi|envoyer|enverrai|"
    r"montre|montrer|montrerai|fais\stourner|faire\stourner|ferai\stourner|leak|leaker|"
    r"expose|exposer|exposerai|affiche|afficher|afficherai|mets|mettre|mettrai|"
    r"fous|foutre|foutrai|envoye)"
)
# The verbs that say "make it public" on their own, beside "envoie" or "montre".
_STRONG_SPREAD = (
    r"(?:diffuse|diffuser|diffuserai|balance|balancer|balancerai|publie|publier|publierai|"
    r"poste|poster|posterai|leak|leaker|expose|exposer|exposerai|fais\stourner|"
    r"faire\stourner|ferai\stourner|affiche|afficher|afficherai)"
)
_INTIMATE = (
    r"(?:\bnudes?\b|\bnude?s\b|\bnuds?\b|"
    r"\b(?:tes|ta|ces|cette|les|la|mes)\s(?:photos?|pho?to|pics?|vids?|videos?|images?|"
    r"captures?|screens?)\s(?:de\stoi\s)?(?:nue?s?|a\spoil|en\ssous[\s-]vetements?|intimes?|hot|"
    r"cochonnes?|sexy|de\s(?:ta|la)\scam)\b|"
    r"\b(?:tes|ta)\s(?:photos?|pics?|vids?|videos?|nudes?|captures?|screens?)\b|"
    r"\b(?:photos?|videos?|vids?)\s(?:de\stoi\s)?(?:nue?s?|a\spoil)\b|"
    r"\bta\scam\b|\bton\slive\b|\btes\s(?:seins|fesses|parties))"
)
_AUDIENCE = (
    r"(?:\ba\s(?:tes|ta|ton|tous\stes|toute\sta|tout\ston|toute\stes)\s(?:parents|famille|potes|amis?|contacts|abonnes|"
    r"followers|copains|copines|mere|pere|daron|daronne|darons|mec|meuf|copain|copine|ecole|"
    r"college|lycee|patron|boss|collegues|classe|profs?|freres?|soeurs?|cousins?)\b|"
    r"\ba\stout\sle\smonde\b|\bsur\s(?:insta|snap|les\sreseaux|internet|le\snet|facebook|fb|"
    r"tiktok|twitter|x|des\ssites?|un\ssite|porn\w*)\b|\bpartout\b)"
)
_CONDITION = (
    r"(?:\bsinon\b|\bsi\stu\s(?:ne\s|n')?(?:\w+\s){0,3}pas\b|\bou\s(?:je|j'|j)\b|"
    r"\bou\sbien\b|\bavant\s(?:ce\ssoir|demain|minuit|\d+\s?h))"
)
_MONEY = (
    r"(?:\d+\s?(?:€|euros?|eur|e\b|balles|k\b)|paysafe\w*|\bpcs\b|transcash|neosurf|bitcoins?|"
    r"\bbtc\b|crypto|virement|paypal|lydia|carte\scadeau|cartes\scadeaux|recharges?\b)"
)
SEXTORTION = re.compile(
    "|".join(
        (
            # "je les envoie a tes parents", "je vais les balancer sur insta".
            rf"\b(?:je|j'|j)\s?(?:vais\s|v\s)?(?:les|la|l'|te|t')\s?{_SPREAD}\b[^.!?]{{0,40}}?{_AUDIENCE}",
            # "je vais envoyer tes nudes a tes parents".
            rf"\b(?:je|j'|j)\s?(?:vais\s|v\s)?{_SPREAD}\b[^.!?]{{0,40}}?{_INTIMATE}[^.!?]{{0,60}}?{_AUDIENCE}",
            # "je vais les publier si tu ...", "je vais leak tes nudes".
            rf"\b(?:je|j'|j)\s?(?:vais\s|v\s)?(?:les\s|la\s|te\s|t'|l')?{_STRONG_SPREAD}\b[^.!?]{{0,40}}?(?:\bsi\stu\b|\bsinon\b)",
            rf"\b(?:je|j'|j)\s?(?:vais\s|v\s)?{_STRONG_SPREAD}\b[^.!?]{{0,20}}?{_INTIMATE}",
            # "paye 200e ou je diffuse", "sinon je les envoie", "si tu paies pas je balance tout".
            rf"{_CONDITION}\s?(?:je\s|j'|j\s)?(?:vais\s|v\s)?(?:les\s|la\s|te\s|t'|tout\s|l')?{_STRONG_SPREAD}\b",
            rf"{_CONDITION}\s?(?:je\s|j'|j\s)?(?:vais\s|v\s)?(?:les|tout)\s{_SPREAD}\b",
            # "j'ai tes nudes", "j'ai des photos de toi nue", "j'ai enregistre ta cam".
            r"\bj'?\s?ai\s(?:tes|des|toutes\stes|ta|ces)\s(?:nudes?|nuds?|photos?\s(?:de\stoi\s)?(?:nue?s?|a\spoil)|"
            r"videos?\s(?:de\stoi\s)?(?:nue?s?|a\spoil)|captures?\sde\sta\scam|vids?\s(?:de\stoi\s)?nue?s?)\b",
            r"\bj'?\s?ai\s(?:tout\s)?(?:enregistre|filme|capture|screen)\s(?:ta\scam|ton\slive|notre\s(?:appel|cam|facetime)|"
            r"la\s(?:cam|video)|tout\sce\sque\stu\sas\sfait)",
            # A demand for money under a threat: "tu me vires 300 euros sinon ...".
            rf"{_MONEY}[^.!?]{{0,40}}\bsinon\b(?!\s(?:rien|c'est|on\s|ca\s))",
            # More images under a threat: "envoie d'autres photos sinon tu vas le regretter".
            r"(?:photos?|nudes?|vids?|videos?|pics?)\b[^.!?]{0,30}\bsinon\b[^.!?]{0,40}"
            r"(?:regrett\w*|tout\sle\smonde|verront|vont\svoir|va\svoir|saura|sauront|ta\svie|"
            r"detrui\w*|afficher|affiche)",
        )
    )
)

# What an adult asks of a minor in grooming: images, a camera, a meeting, contact
# details or another app, whether they are alone.
IMAGE_OR_CONTACT_REQUEST = re.compile(
    r"(?:(?<!j')(?<!je\s)(?<!j\s)\b(?:envoie|envoi|envois|envoye|montre|fais\svoir|tu\sm'envoies|t'as\sdes|tas\sdes|"
    r"t'aurais\sdes|une\sautre|d'autres|encore\sune)\s?(?:moi\s|-moi\s|stp\s)?(?:une?\s|des\s|ta\s|tes\s)?"
    r"(?:photos?|pho?to|pics?|nudes?|vids?|videos?|selfies?|snaps?)\b|"
    r"\bmontre[\s-]?(?:toi|moi\sta|moi\ston|tes|ta|ton)\b|"
    r"\b(?:allume|active|ouvre|met|mets)\sta\scam\b|\ben\scam\b|\bon\sse\scam\b|\bfacetime\b|"
    r"\bappel\svideo\b|"
    r"\b(?:tu\shabites|t'habites|tu\svis|t'es|tes|tu\ses)\s(?:ou|dans\squelle\sville|vers\sou)\b|"
    r"\bton\s(?:adresse|numero|num|tel|telephone|06|07|snap|insta|whatsapp|tiktok)\b|"
    r"\b(?:t'as|tas|as\stu|t'a|ta)\s(?:snap|insta|whatsapp|wa|tiktok|discord|telegram|un\snum)\b|"
    r"\b(?:t'es|tes|tu\ses)\sseule?\b|\btes\sparents\s(?:sont|rentrent)\b|"
    r"\bpersonne\sdoit\ssavoir\b|\bc'est\snotre\ssecret\b|\bdis\srien\sa\stes\sparents\b|"
    r"\bje\s(?:viens|passe)\ste\s(?:chercher|prendre|voir)\b|\bje\st'?\s?attends\b)"
)


# Words without which a pattern cannot match: plain substring tests (C speed) spare the
# alternations above the scan of the many messages that mention none of them.
MINOR_HINTS = (
    *"0123456789",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
    "dix",
    "mineur",
    "majeur",
    "college",
    "clg",
    "lycee",
    "sixieme",
    "cinquieme",
    "quatrieme",
    "troisieme",
    "seconde",
    "premiere",
    "terminale",
    "tle",
)
SEXTORTION_HINTS = (
    "diffus",
    "balanc",
    "publi",
    "post",
    "partag",
    "envoi",
    "envoy",
    "enverr",
    "montr",
    "tourner",
    "leak",
    "expos",
    "affich",
    "mets",
    "mettr",
    "fous",
    "foutr",
    "nud",
    "nue",
    "poil",
    "enregistr",
    "film",
    "captur",
    "screen",
    "sinon",
)
REQUEST_HINTS = (
    "photo",
    "phto",
    "pic",
    "nud",
    "vid",
    "selfie",
    "snap",
    "montr",
    "cam",
    "facetime",
    "habit",
    "vis ou",
    "es ou",
    "ville",
    "adresse",
    "num",
    "tel",
    "insta",
    "whatsapp",
    " wa",
    "tiktok",
    "discord",
    "telegram",
    "seul",
    "parents",
    "savoir",
    "secret",
    "te chercher",
    "te prendre",
    "te voir",
    "attends",
)


def _mentions(folded: str, hints: tuple[str, ...]) -> bool:
    return any(hint in folded for hint in hints)


def chat_fold(text: str) -> str:
    """fold(), straight apostrophes and single spaces: "J\u2019ai  14 ans" -> "j'ai 14 ans"."""
    return _SPACES.sub(" ", fold(text).translate(_APOSTROPHES)).strip()


def declared_minor(folded: str, *, year: int) -> bool:
    """Whether the author says they are under 18 ("j'ai 14 ans", "je suis en 4e",
    "nee en 2012"); `folded` is chat_fold(text), `year` the current year."""
    if not _mentions(folded, MINOR_HINTS):
        return False
    for match in SELF_DECLARED_MINOR.finditer(folded):
        born = match.group("born") or match.group("born_of")
        if born is None:
            return True
        # Born 17 years ago or less, and not a toddler (a date, not an age).
        if year - 17 <= int(born) <= year - 8:
            return True
    return False


def sextortion(folded: str) -> bool:
    """A threat to spread intimate images, or a demand for money or images under one."""
    return _mentions(folded, SEXTORTION_HINTS) and SEXTORTION.search(folded) is not None


def asks_minor_for_contact(
    folded: str, raw: str, *, meetup: bool | None = None, moves: bool | None = None
) -> bool:
    """A request for images, a camera, a meeting, contact details or another app.
    `meetup` and `moves`: what the post path already found (MEETUP, another app)."""
    if meetup is None:
        meetup = MEETUP.search(folded) is not None
    if moves is None:
        moves = asks_to_move_to_other_app(raw, folded)
    return bool(
        meetup
        or moves
        or (_mentions(folded, REQUEST_HINTS) and IMAGE_OR_CONTACT_REQUEST.search(folded))
        or FRENCH_PHONE.search(raw)
    )
