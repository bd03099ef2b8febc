"""The DSA Transparency Database's vocabulary, and how our decisions map onto it.

The names are the database's own enumerations (its API documentation,
transparency.dsa.ec.europa.eu/page/api-documentation, and the categories of
Implementing Regulation (EU) 2024/2835, which its statement categories follow):
a statement of reasons stores them as they are submitted, so the export
(compliance/dsa_export.py) and the transparency report count the same things.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DsaCategory(models.TextChoices):
    """STATEMENT_CATEGORY_*: the category of the decision (one per statement)."""

    ANIMAL_WELFARE = "STATEMENT_CATEGORY_ANIMAL_WELFARE", _("bien-être animal")
    DATA_PROTECTION = (
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        _("protection des données et vie privée"),
    )
    ILLEGAL_OR_HARMFUL_SPEECH = (
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        _("discours illégaux ou préjudiciables"),
    )
    INTELLECTUAL_PROPERTY = (
        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        _("atteintes à la propriété intellectuelle"),
    )
    CIVIC_DISCOURSE = (
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        _("effets négatifs sur le débat civique ou les élections"),
    )
    NON_CONSENSUAL_BEHAVIOUR = (
        "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
        _("comportements non consentis"),
    )
    PORNOGRAPHY = (
        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        _("pornographie ou contenus sexualisés"),
    )
    PROTECTION_OF_MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", _("protection des mineurs")
    PUBLIC_SECURITY = (
        "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        _("risque pour la sécurité publique"),
    )
    SCAMS_AND_FRAUD = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", _("arnaques et fraudes")
    SELF_HARM = "STATEMENT_CATEGORY_SELF_HARM", _("automutilation")
    SCOPE_OF_SERVICE = (
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        _("périmètre du service de la plateforme"),
    )
    UNSAFE_PRODUCTS = (
        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
        _("produits dangereux ou illégaux"),
    )
    VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE", _("violence")


class SourceType(models.TextChoices):
    """What the decision followed (source_type)."""

    ARTICLE_16 = "SOURCE_ARTICLE_16", _("notification au titre de l'article 16")
    TRUSTED_FLAGGER = "SOURCE_TRUSTED_FLAGGER", _("notification d'un signaleur de confiance")
    OTHER_NOTIFICATION = "SOURCE_TYPE_OTHER_NOTIFICATION", _("autre signalement")
    VOLUNTARY = "SOURCE_VOLUNTARY", _("initiative propre")


class AutomatedDecision(models.TextChoices):
    """How far the decision itself was automated (automated_decision)."""

    FULLY = "fully", _("entièrement automatisée")
    PARTIALLY = "partially", _("partiellement automatisée")
    NOT_AUTOMATED = "not", _("non automatisée")


AUTOMATED_DECISION_API = {
    AutomatedDecision.FULLY: "AUTOMATED_DECISION_FULLY",
    AutomatedDecision.PARTIALLY: "AUTOMATED_DECISION_PARTIALLY",
    AutomatedDecision.NOT_AUTOMATED: "AUTOMATED_DECISION_NOT_AUTOMATED",
}

DECISION_GROUND_ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
DECISION_GROUND_INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"

# Every decision applies to the whole service, wherever the reader is: the EEA.
EEA_COUNTRIES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip

# A decision that rests on the terms: its category follows the ground. A
# decision on illegal content takes the category of the legal provision
# (moderation/legal_provisions.py).
# Keyed by moderation.models.Ground values (models imports this module for its choices).
GROUND_CATEGORY = {
    "terms_minors": DsaCategory.PROTECTION_OF_MINORS,
    "terms_violence": DsaCategory.VIOLENCE,
    "terms_harassment": DsaCategory.NON_CONSENSUAL_BEHAVIOUR,
    "terms_hate": DsaCategory.ILLEGAL_OR_HARMFUL_SPEECH,
    "terms_sexual": DsaCategory.NON_CONSENSUAL_BEHAVIOUR,
    "terms_scam": DsaCategory.SCAMS_AND_FRAUD,
    "terms_spam": DsaCategory.SCOPE_OF_SERVICE,
    "terms_personal_data": DsaCategory.DATA_PROTECTION,
    "terms_other": DsaCategory.SCOPE_OF_SERVICE,
    "illegal": DsaCategory.ILLEGAL_OR_HARMFUL_SPEECH,
}


def category_for(ground: str, provision_code: str = "") -> str:
    from moderation.legal_provisions import provision

    cited = provision(provision_code) if provision_code else None
    if cited is not None:
        return cited.category
    return GROUND_CATEGORY.get(ground, DsaCategory.SCOPE_OF_SERVICE)


# What members and notifiers report, in the statement categories (the
# transparency report counts notices by these). Keyed by ReportCategory values.
REPORT_CATEGORY = {
    "child_safety": DsaCategory.PROTECTION_OF_MINORS,
    "threat": DsaCategory.VIOLENCE,
    "harassment": DsaCategory.NON_CONSENSUAL_BEHAVIOUR,
    "hate": DsaCategory.ILLEGAL_OR_HARMFUL_SPEECH,
    "sexual_content": DsaCategory.NON_CONSENSUAL_BEHAVIOUR,
    "scam": DsaCategory.SCAMS_AND_FRAUD,
    "spam": DsaCategory.SCOPE_OF_SERVICE,
    "illegal_other": DsaCategory.ILLEGAL_OR_HARMFUL_SPEECH,
    "other": DsaCategory.SCOPE_OF_SERVICE,
}
