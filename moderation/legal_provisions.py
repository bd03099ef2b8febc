"""The French legal provisions a decision on illegal content cites (DSA Art. 17(3)(d)).

A moderator who finds content illegal, rather than only contrary to the rules,
names the provision: the statement of reasons quotes it, links the text on
Légifrance, and the Transparency Database export sends it as
`illegal_content_legal_ground` with the category and keywords below. These are
the offences a chat moderator meets (harassment, threats, hate, child sexual
abuse material and solicitation of minors, non-consensual images, fraud); codes
are stable like the rules' (never renumbered or reused).
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from moderation.dsa import DsaCategory

CODE_PENAL = "https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000006070719"
PRESS_LAW = "https://www.legifrance.gouv.fr/loda/id/JORFTEXT000000877119"
PUBLIC_HEALTH_CODE = "https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000006072665"

PROVISION_MAX_LENGTH = 20


@dataclass(frozen=True)
class LegalProvision:
    code: str
    # The reference as a lawyer writes it ("Code pénal, art. 222-33-2-2").
    reference: str
    title: Promise
    category: str
    # KEYWORD_* of the Transparency Database (category_specification).
    keywords: tuple[str, ...] = ()
    url: str = CODE_PENAL

    def __str__(self) -> str:
        return f"{self.reference} · {self.title}"


PROVISIONS: tuple[LegalProvision, ...] = (
    # Harassment
    LegalProvision(
        "CP-222-33-2-2",
        "Code pénal, art. 222-33-2-2",
        _("harcèlement moral, y compris en ligne ou à plusieurs"),
        DsaCategory.NON_CONSENSUAL_BEHAVIOUR,
        ("KEYWORD_ONLINE_BULLYING_INTIMIDATION",),
    ),
    LegalProvision(
        "CP-222-16",
        "Code pénal, art. 222-16",
        _("messages malveillants réitérés par voie électronique"),
        DsaCategory.NON_CONSENSUAL_BEHAVIOUR,
        ("KEYWORD_ONLINE_BULLYING_INTIMIDATION",),
    ),
    LegalProvision(
        "CP-223-1-1",
        "Code pénal, art. 223-1-1",
        _("divulgation d'informations personnelles exposant une personne à un danger"),
        DsaCategory.DATA_PROTECTION,
    ),
    # Threats and violence
    LegalProvision(
        "CP-222-17",
        "Code pénal, art. 222-17",
        _("menace de commettre un crime ou un délit contre les personnes"),
        DsaCategory.VIOLENCE,
    ),
    LegalProvision(
        "CP-222-18",
        "Code pénal, art. 222-18",
        _("menace de mort ou menace assortie d'un ordre de remplir une condition"),
        DsaCategory.VIOLENCE,
    ),
    LegalProvision(
        "CP-421-2-5",
        "Code pénal, art. 421-2-5",
        _("provocation directe à des actes de terrorisme ou apologie du terrorisme"),
        DsaCategory.PUBLIC_SECURITY,
        ("KEYWORD_TERRORIST_CONTENT",),
    ),
    LegalProvision(
        "CP-223-13",
        "Code pénal, art. 223-13",
        _("provocation au suicide"),
        DsaCategory.SELF_HARM,
        ("KEYWORD_SUICIDE",),
    ),
    # Hate (press law of 29 July 1881)
    LegalProvision(
        "L1881-24",
        "Loi du 29 juillet 1881, art. 24, al. 7 et 8",
        _(
            "provocation à la haine, à la discrimination ou à la violence (origine, religion, "
            "sexe, orientation sexuelle, identité de genre, handicap)"
        ),
        DsaCategory.ILLEGAL_OR_HARMFUL_SPEECH,
        ("KEYWORD_HATE_SPEECH", "KEYWORD_INCITEMENT_VIOLENCE_HATRED"),
        PRESS_LAW,
    ),
    LegalProvision(
        "L1881-24-BIS",
        "Loi du 29 juillet 1881, art. 24 bis",
        _("contestation ou banalisation de crimes contre l'humanité"),
        DsaCategory.ILLEGAL_OR_HARMFUL_SPEECH,
        ("KEYWORD_HATE_SPEECH",),
        PRESS_LAW,
    ),
    LegalProvision(
        "L1881-32",
        "Loi du 29 juillet 1881, art. 32",
        _("diffamation publique, dont diffamation à caractère discriminatoire"),
        DsaCategory.ILLEGAL_OR_HARMFUL_SPEECH,
        ("KEYWORD_DEFAMATION",),
        PRESS_LAW,
    ),
    LegalProvision(
        "L1881-33",
        "Loi du 29 juillet 1881, art. 33",
        _("injure publique, dont injure raciste, sexiste, homophobe ou handiphobe"),
        DsaCategory.ILLEGAL_OR_HARMFUL_SPEECH,
        ("KEYWORD_HATE_SPEECH",),
        PRESS_LAW,
    ),
    # Minors
    LegalProvision(
        "CP-227-23",
        "Code pénal, art. 227-23",
        _("image ou représentation pédopornographique (diffusion, détention, consultation)"),
        DsaCategory.PROTECTION_OF_MINORS,
        ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
    ),
    LegalProvision(
        "CP-227-22-1",
        "Code pénal, art. 227-22-1",
        _("propositions sexuelles à un mineur de quinze ans par voie électronique"),
        DsaCategory.PROTECTION_OF_MINORS,
        ("KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",),
    ),
    LegalProvision(
        "CP-227-23-1",
        "Code pénal, art. 227-23-1",
        _("incitation d'un mineur à se livrer à des pratiques sexuelles en ligne"),
        DsaCategory.PROTECTION_OF_MINORS,
        ("KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",),
    ),
    # Non-consensual images
    LegalProvision(
        "CP-226-2-1",
        "Code pénal, art. 226-2-1",
        _("diffusion sans son accord d'images à caractère sexuel d'une personne"),
        DsaCategory.NON_CONSENSUAL_BEHAVIOUR,
        ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",),
    ),
    LegalProvision(
        "CP-226-8-1",
        "Code pénal, art. 226-8-1",
        _("montage ou hypertrucage à caractère sexuel d'une personne sans son accord"),
        DsaCategory.NON_CONSENSUAL_BEHAVIOUR,
        ("KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",),
    ),
    LegalProvision(
        "CP-312-10",
        "Code pénal, art. 312-10",
        _("chantage, dont chantage à la diffusion d'images intimes (sextorsion)"),
        DsaCategory.NON_CONSENSUAL_BEHAVIOUR,
    ),
    # Fraud
    LegalProvision(
        "CP-313-1",
        "Code pénal, art. 313-1",
        _("escroquerie"),
        DsaCategory.SCAMS_AND_FRAUD,
    ),
    LegalProvision(
        "CP-226-4-1",
        "Code pénal, art. 226-4-1",
        _("usurpation d'identité, y compris en ligne"),
        DsaCategory.SCAMS_AND_FRAUD,
        ("KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",),
    ),
    # Drugs
    LegalProvision(
        "CSP-L3421-4",
        "Code de la santé publique, art. L3421-4",
        _("provocation à l'usage ou au trafic de stupéfiants"),
        DsaCategory.UNSAFE_PRODUCTS,
        ("KEYWORD_REGULATED_GOODS_SERVICES",),
        PUBLIC_HEALTH_CODE,
    ),
)

_BY_CODE = {item.code: item for item in PROVISIONS}


def provision(code: str) -> LegalProvision | None:
    return _BY_CODE.get(code)


def provision_choices() -> list[tuple[str, str]]:
    """The `choices` of the provision fields: a callable, like the rules' (no migration
    when the catalogue grows)."""
    return [(item.code, str(item)) for item in PROVISIONS]
