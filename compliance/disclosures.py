"""Who receives members' data besides the staff: the processors acting on our
instructions and the authorities we disclose to (GDPR Art. 13(1)(e), Art. 30(1)(d)).

One list for the privacy page (/privacy/, compliance/views.py) and for the
recipients table of docs/records-of-processing.md (scripts/retention_table.py
writes it in English from the same strings; tests/compliance/test_retention_docs.py
fails when it is stale), so the notice, the record and the code cannot drift.
The processors' names come from the settings a deployment fills in
(docs/configuration.md, "Legal notice"); an empty one shows as "not provided".
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from compliance.app_settings import app_settings


@dataclass(frozen=True)
class Recipient:
    key: str
    who: Promise
    # The provider a deployment names (settings); empty for an authority.
    provider: str
    role: Promise
    receives: Promise
    when: Promise
    # The settings that name it, for the record of processing.
    settings_names: tuple[str, ...] = ()


def _host_of(url: str) -> str:
    return (urlsplit(url).hostname or "") if url else ""


def processors() -> list[Recipient]:
    """The processors (GDPR Art. 28), each named by the deployment's settings."""
    return [
        Recipient(
            "hosting",
            _("Hébergeur"),
            settings.LEGAL_HOST_NAME,
            _("sous-traitant"),
            _(
                "toutes les données que nous conservons, qu'il stocke pour nous (base de données, "
                "fichiers envoyés, sauvegardes) sans y accéder pour son compte"
            ),
            _("en permanence"),
            ("LEGAL_HOST_NAME", "LEGAL_HOST_ADDRESS"),
        ),
        Recipient(
            "age_verification",
            _("Prestataire de vérification de l'âge"),
            app_settings.PRIVACY_AGE_VERIFICATION_PROVIDER
            or _host_of(settings.AGE_ATTESTATION_PROVIDER_URL),
            _("sous-traitant"),
            _(
                "seulement le fait que vous demandez une attestation pour Chatsite : il nous "
                "renvoie une attestation signée « 18 ans ou plus », sans votre identité. La "
                "preuve d'âge de votre portefeuille, elle, ne passe par aucun prestataire"
            ),
            _("quand vous choisissez l'attestation d'un prestataire"),
            (
                "PRIVACY_AGE_VERIFICATION_PROVIDER",
                "AGE_ATTESTATION_PROVIDER_URL",
                "AGE_ATTESTATION_ISSUERS",
            ),
        ),
        Recipient(
            "mail",
            _("Prestataire d'envoi des e-mails"),
            app_settings.PRIVACY_MAIL_PROVIDER or _host_of(settings.EMAIL_URL),
            _("sous-traitant"),
            _(
                "votre adresse e-mail et le texte des messages que nous vous envoyons "
                "(confirmation, mot de passe, exposés des motifs, suites de vos signalements)"
            ),
            _("à chaque e-mail"),
            ("PRIVACY_MAIL_PROVIDER", "EMAIL_URL", "DEFAULT_FROM_EMAIL"),
        ),
    ]


def authority_disclosures() -> list[Recipient]:
    """What reaches the authorities: on requisition, and spontaneously (DSA Art. 18)."""
    return [
        Recipient(
            "requisition",
            _("Autorités judiciaires et de police, sur réquisition"),
            "",
            _("tiers, obligation légale (code de procédure pénale)"),
            _(
                "les données que la réquisition désigne (identité du compte, données de "
                "connexion, messages, décisions de modération), après vérification par deux "
                "responsables conformité"
            ),
            _("sur réquisition légale vérifiée"),
        ),
        Recipient(
            "art18",
            _(
                "Autorités judiciaires et de police, de notre propre initiative : PHAROS "
                "(internet-signalement.gouv.fr), police (17), urgences (112)"
            ),
            "",
            _("tiers, obligation légale (article 18 du règlement sur les services numériques)"),
            _(
                "le contenu en cause et son contexte, le pseudonyme, l'identifiant, l'adresse "
                "e-mail et les dernières données de connexion (adresse IP, port) de la personne "
                "soupçonnée, et, si besoin, le pseudonyme de la victime ou de l'auteur du "
                "signalement ; chaque transmission est enregistrée (quoi, quand, par qui, "
                "référence de l'autorité) et tracée"
            ),
            _(
                "sans réquisition, quand nous soupçonnons une infraction menaçant la vie ou la "
                "sécurité d'une personne, notamment l'exploitation sexuelle d'un mineur"
            ),
        ),
    ]


def recipients() -> list[Recipient]:
    return [*processors(), *authority_disclosures()]
