"""The community rules and the terms of use, as numbered clauses (docs/pages.md).

One source for the /rules/ and /terms/ pages, the clause a moderation decision
cites (`Sanction.clause`, `StatementOfReasons.clause`, `Report.clause`) and the
link the statement of reasons gives to it. Codes are stable: a decision cites
"R4" for good, so a clause may be reworded but never renumbered or reused.
French is the source text; the English catalogue translates it.

Over 500 lines because it is mostly text: the clauses themselves, one
dataclass each, kept together so that the numbering reads in one place.
"""

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from moderation.app_settings import app_settings
from moderation.models import Ground

# When the current wording took effect (DSA Art. 14(2): members are told of changes).
RULES_EFFECTIVE_DATE = datetime.date(2026, 11, 22)
TERMS_EFFECTIVE_DATE = datetime.date(2026, 11, 22)


@dataclass(frozen=True)
class Clause:
    code: str
    title: Promise
    paragraphs: tuple[Promise, ...]
    # Bulleted examples or steps, after the paragraphs.
    items: tuple[Promise, ...] = ()
    # (label, URL name) pairs shown under the text: where to act on the clause.
    links: tuple[tuple[Promise, str], ...] = ()
    # The ground (moderation.models.Ground) a breach of this clause rests on;
    # None for clauses that describe rather than forbid (not citable).
    ground: str | None = None
    page: str = field(default="rules")

    @property
    def citable(self) -> bool:
        return self.ground is not None

    def get_absolute_url(self) -> str:
        return f"{reverse(self.page)}#{self.code}"

    def __str__(self) -> str:
        return f"{self.code} · {self.title}"


def _notifier_terms() -> str:
    """DSA Art. 23(2) and (4): the thresholds in words, from the settings the
    procedure applies (moderation/actions/misuse.py), read when shown."""
    return _(
        "Signalements manifestement infondés (article 23, paragraphe 2, du règlement sur les "
        "services numériques) : si, sur les %(days)d derniers jours, au moins %(decided)d de "
        "vos signalements ont été examinés et au moins %(percent)d %% d'entre eux jugés "
        "manifestement infondés, vous recevez un avertissement. Si un autre de vos "
        "signalements est ensuite jugé manifestement infondé alors que ces seuils sont "
        "toujours atteints, vos nouveaux signalements sont refusés pendant %(suspension)d "
        "jours. Le bouton « Alerte » reste disponible."
    ) % {
        "days": app_settings.MODERATION_UNFOUNDED_REPORTS_WINDOW_DAYS,
        "decided": app_settings.MODERATION_UNFOUNDED_REPORTS_MIN_DECIDED,
        "percent": app_settings.MODERATION_UNFOUNDED_REPORTS_PERCENT,
        "suspension": app_settings.MODERATION_REPORTING_SUSPENSION_DAYS,
    }


def _provider_terms() -> str:
    """DSA Art. 23(1) and (4), as _notifier_terms."""
    return _(
        "Contenus manifestement illicites (article 23, paragraphe 1, du même règlement) : si, "
        "sur les %(days)d derniers jours, au moins %(count)d de vos messages ont été "
        "supprimés ou refusés par un modérateur parce qu'ils étaient manifestement "
        "illicites, vous recevez un avertissement. Si vous publiez ensuite un autre contenu "
        "manifestement illicite alors que ce seuil est toujours atteint, votre compte est "
        "suspendu sur tout le site pendant %(suspension)d jours."
    ) % {
        "days": app_settings.MODERATION_ILLEGAL_CONTENT_WINDOW_DAYS,
        "count": app_settings.MODERATION_ILLEGAL_CONTENT_THRESHOLD,
        "suspension": app_settings.MODERATION_ILLEGAL_CONTENT_SUSPENSION_DAYS,
    }


RULES: tuple[Clause, ...] = (
    Clause(
        "R1",
        _("Réservé aux adultes dont l'âge est vérifié"),
        (
            _(
                "Chatsite est réservé aux personnes de 18 ans et plus. Chaque membre confirme "
                "son adresse e-mail et fait vérifier son âge avant d'entrer dans un salon."
            ),
            _(
                "Ne créez pas de compte pour une autre personne et ne laissez jamais un mineur "
                "utiliser le vôtre. Si vous pensez qu'un membre est mineur, signalez son "
                "profil : la modération vérifie et ferme le compte si c'est le cas."
            ),
        ),
        ground=Ground.TERMS_MINORS,
    ),
    Clause(
        "R2",
        _("Protection des mineurs : tolérance zéro"),
        (
            _(
                "Tout contenu sexuel impliquant un mineur est interdit, quelle qu'en soit la "
                "forme : photo, vidéo, dessin, texte ou récit présenté comme fictif. Il est "
                "aussi interdit de chercher à entrer en contact avec un mineur à des fins "
                "sexuelles, ou de proposer, demander ou échanger de tels contenus."
            ),
            _(
                "Ce sont des crimes et des délits (articles 227-22-1 et 227-23 du code pénal). "
                "Le compte est banni définitivement, le contenu est conservé pour la justice "
                "et signalé à PHAROS, la plateforme officielle de signalement "
                "(internet-signalement.gouv.fr), et les données utiles sont transmises aux "
                "autorités."
            ),
        ),
        ground=Ground.TERMS_MINORS,
    ),
    Clause(
        "R3",
        _("Pas de menaces ni de violence"),
        (
            _(
                "Interdits : menacer quelqu'un, appeler à la violence contre une personne ou "
                "un groupe, faire l'apologie du terrorisme ou de crimes, pousser quelqu'un au "
                "suicide ou à se faire du mal."
            ),
            _(
                "Quand la vie ou la sécurité d'une personne est menacée, la modération "
                "prévient les autorités sans attendre. Si vous êtes en danger maintenant, "
                "appelez le 17 (police) ou le 112."
            ),
        ),
        ground=Ground.TERMS_VIOLENCE,
    ),
    Clause(
        "R4",
        _("Pas de harcèlement"),
        (
            _(
                "Respectez les autres membres. Sont interdits : les insultes, l'intimidation, "
                "les messages répétés à quelqu'un qui ne veut pas vous répondre, le "
                "harcèlement à plusieurs contre une personne, et le fait de recréer un compte "
                "ou de passer par un autre salon pour contourner un blocage."
            ),
            _(
                "Un « non », un silence ou un blocage se respectent. Vous pouvez bloquer "
                "n'importe quel membre à tout moment : il ne peut plus vous écrire en privé."
            ),
        ),
        ground=Ground.TERMS_HARASSMENT,
    ),
    Clause(
        "R5",
        _("Pas de haine ni de discrimination"),
        (
            _(
                "Sont interdits les propos qui insultent, menacent, rabaissent ou appellent à "
                "la haine ou à la discrimination contre des personnes en raison de leur "
                "origine, de leur couleur de peau, de leur nationalité, de leur religion, de "
                "leur sexe, de leur orientation sexuelle ou de leur identité de genre, de leur "
                "handicap ou de leur état de santé."
            ),
            _(
                "Cela vaut pour l'homophobie, la lesbophobie, la biphobie et la transphobie "
                "comme pour le racisme, l'antisémitisme, la misogynie ou le validisme. La "
                "négation ou l'apologie des crimes contre l'humanité est également interdite."
            ),
        ),
        ground=Ground.TERMS_HATE,
    ),
    Clause(
        "R6",
        _("Pas de divulgation de données personnelles (doxxing)"),
        (
            _(
                "Ne publiez pas, et ne menacez pas de publier, ce qui permet d'identifier ou de "
                "retrouver une autre personne sans son accord : nom, adresse, téléphone, lieu "
                "de travail ou d'études, photos, comptes sur d'autres services."
            ),
            _(
                "Pour votre propre sécurité, ne donnez pas non plus vos coordonnées dans un "
                "salon public. Chatsite vous permet de rester sous pseudonyme : profitez-en."
            ),
        ),
        ground=Ground.TERMS_PERSONAL_DATA,
    ),
    Clause(
        "R7",
        _("Pas de guet-apens ni de rendez-vous piégés"),
        (
            _(
                "Il est interdit d'utiliser Chatsite pour attirer une personne à un rendez-vous "
                "dans le but de l'agresser, de la voler, de l'humilier, de la filmer ou de la "
                "faire chanter, ou de mentir sur son identité pour obtenir une rencontre. Ces "
                "guet-apens visent souvent les personnes homosexuelles : ils sont punis "
                "sévèrement et signalés aux autorités."
            ),
            _(
                "Si vous rencontrez quelqu'un : choisissez un lieu public, prévenez une personne "
                "de confiance et n'hésitez pas à utiliser le bouton « Alerte » d'une "
                "conversation privée si quelque chose vous inquiète."
            ),
        ),
        ground=Ground.TERMS_VIOLENCE,
    ),
    Clause(
        "R8",
        _("Pas de contenu sexuel non consenti"),
        (
            _(
                "Les contenus sexuels explicites sont interdits dans les salons publics. En "
                "conversation privée, n'envoyez un contenu sexuel qu'à une personne qui l'a "
                "clairement accepté, et jamais pour la première prise de contact."
            ),
            _(
                "Il est interdit de diffuser ou de menacer de diffuser des images intimes d'une "
                "personne sans son accord (article 226-2-1 du code pénal), et de faire pression "
                "sur quelqu'un pour obtenir des images ou de l'argent (« sextorsion »)."
            ),
        ),
        ground=Ground.TERMS_SEXUAL,
    ),
    Clause(
        "R9",
        _("Pas d'arnaque"),
        (
            _(
                "Interdits : demander de l'argent sous un faux prétexte, l'hameçonnage (faux "
                "liens pour voler un mot de passe ou une carte bancaire), les faux profils "
                "créés pour tromper, les offres d'emploi ou d'investissement frauduleuses."
            ),
            _("L'équipe de Chatsite ne vous demandera jamais votre mot de passe ni un paiement."),
        ),
        ground=Ground.TERMS_SCAM,
    ),
    Clause(
        "R10",
        _("Pas de spam ni de flood"),
        (
            _(
                "Pas de publicité, de messages envoyés en masse, de liens répétés ni de "
                "messages en rafale qui empêchent les autres de discuter. Des filtres "
                "automatiques peuvent retenir ou signaler ces messages."
            ),
        ),
        ground=Ground.TERMS_SPAM,
    ),
    Clause(
        "R11",
        _("Rien d'illégal"),
        (_("Tout contenu contraire à la loi française ou européenne est interdit, notamment :"),),
        items=(
            _("la vente ou la promotion de drogues, d'armes ou de médicaments sans ordonnance ;"),
            _("la contrefaçon et le partage d'œuvres sans l'accord de leurs auteurs ;"),
            _("la diffamation et l'injure ;"),
            _("l'incitation à commettre un crime ou un délit."),
        ),
        links=((_("Signaler un contenu illégal (ouvert à tous)"), "moderation:notice"),),
        ground=Ground.ILLEGAL,
    ),
    Clause(
        "R12",
        _("Un compte par personne, sans usurpation"),
        (
            _(
                "Chaque personne a un seul compte. Ne vous faites pas passer pour un autre "
                "membre, une personnalité ou l'équipe de Chatsite : les modérateurs ne vous "
                "demanderont jamais votre mot de passe. Ne créez pas de nouveau compte pour "
                "échapper à une sanction."
            ),
        ),
        ground=Ground.TERMS_OTHER,
    ),
    Clause(
        "R13",
        _("Signaler et alerter"),
        (
            _(
                "Chaque message et chaque profil a un bouton « Signaler ». Dans une "
                "conversation privée, le bouton « Alerte » transmet la conversation en priorité "
                "à la modération si vous vous sentez en danger. Toute personne, même sans "
                "compte, peut signaler un contenu illégal par le formulaire public."
            ),
            _(
                "La personne signalée ne sait pas qui l'a signalée. Les signalements "
                "manifestement infondés répétés entraînent, après un avertissement, la "
                "suspension temporaire du droit de signaler (article T14 des conditions "
                "d'utilisation)."
            ),
        ),
        links=((_("Formulaire de notification"), "moderation:notice"),),
    ),
    Clause(
        "R14",
        _("Les mesures de modération"),
        (
            _(
                "Des modérateurs examinent les signalements, les plus graves en premier. Selon "
                "la gravité des faits et les manquements passés, ils peuvent prendre, dans un "
                "salon ou sur tout le site, l'une de ces mesures :"
            ),
            _(
                "Les manquements les plus graves (règles R2, R3 et R7) entraînent le "
                "bannissement définitif et un signalement aux autorités. Certains filtres "
                "automatiques peuvent retenir un message ou mettre un compte en sourdine pour "
                "une courte durée ; ces décisions sont présentées comme automatisées."
            ),
        ),
        items=(
            _("la suppression du message ;"),
            _("l'avertissement ;"),
            _("la mise en sourdine : vous lisez mais ne pouvez plus écrire, pour un temps ;"),
            _("l'exclusion temporaire d'un salon ;"),
            _("le bannissement, temporaire ou définitif."),
        ),
    ),
    Clause(
        "R15",
        _("Une décision motivée"),
        (
            _(
                "Chaque décision prise contre vous est accompagnée d'un exposé des motifs, "
                "envoyé par e-mail et consultable sur la page « Mes décisions » : la mesure, sa "
                "portée et sa durée, les faits, la règle enfreinte (avec son numéro), "
                "l'éventuel recours à des moyens automatisés, et vos voies de recours."
            ),
        ),
        links=((_("Mes décisions"), "moderation:decisions"),),
    ),
    Clause(
        "R16",
        _("Contester une décision"),
        (
            _(
                "Vous pouvez contester une décision pendant six mois, gratuitement, depuis la "
                "page « Mes décisions ». Un autre modérateur que celui qui a décidé examine "
                "votre recours et vous répond de façon motivée. Si vous avez signalé un contenu "
                "et que le signalement a été classé sans suite, vous pouvez aussi le contester."
            ),
            _(
                "Vous pouvez également saisir un organisme de règlement extrajudiciaire des "
                "litiges certifié (article 21 du règlement européen sur les services "
                "numériques) ou le juge."
            ),
        ),
        links=((_("Mes décisions"), "moderation:decisions"),),
    ),
)

TERMS: tuple[Clause, ...] = (
    Clause(
        "T1",
        _("Objet et acceptation"),
        (
            _(
                "Les présentes conditions d'utilisation régissent l'utilisation de Chatsite, "
                "service de discussion en ligne édité par la personne désignée dans les "
                "mentions légales. En créant un compte, vous les acceptez, ainsi que les règles "
                "de la communauté, qui en font partie."
            ),
        ),
        links=(
            (_("Mentions légales"), "legal_notice"),
            (_("Règles de la communauté"), "rules"),
        ),
        page="terms",
    ),
    Clause(
        "T2",
        _("Conditions d'accès"),
        (
            _(
                "Le service est gratuit et réservé aux personnes majeures. Pour discuter, il "
                "faut créer un compte, confirmer son adresse e-mail et faire vérifier son âge, "
                "par la preuve d'âge d'un portefeuille (en double anonymat), par l'attestation "
                "d'un fournisseur de vérification ou par l'examen d'une pièce d'identité par "
                "l'équipe. La date de naissance déclarée doit être exacte ; elle est effacée "
                "une fois l'âge vérifié."
            ),
        ),
        page="terms",
    ),
    Clause(
        "T3",
        _("Votre compte"),
        (
            _(
                "Votre pseudonyme est public ; votre adresse e-mail et votre date de naissance "
                "ne sont jamais montrées aux autres membres. Gardez votre mot de passe secret : "
                "vous êtes responsable de ce qui est fait avec votre compte. Prévenez-nous sans "
                "attendre si vous pensez qu'il a été utilisé par quelqu'un d'autre."
            ),
            _(
                "Un pseudonyme ne doit ni usurper l'identité d'autrui ni enfreindre les règles "
                "de la communauté."
            ),
        ),
        page="terms",
    ),
    Clause(
        "T4",
        _("Vos messages"),
        (
            _(
                "Vous restez l'auteur de vos messages et vous en êtes responsable. Vous "
                "autorisez Chatsite à les conserver et à les afficher aux membres du salon ou "
                "de la conversation, pour les seuls besoins du service, pendant les durées "
                "prévues par la politique de confidentialité."
            ),
            _(
                "Un salon public est lu par tous ses membres : n'y écrivez rien que vous ne "
                "voudriez pas voir lu par des inconnus."
            ),
        ),
        page="terms",
    ),
    Clause(
        "T5",
        _("Règles de la communauté et modération"),
        (
            _(
                "Vous vous engagez à respecter les règles de la communauté. Elles décrivent ce "
                "qui est interdit, comment les contenus sont signalés et examinés, les mesures "
                "possibles, l'usage de filtres automatiques sous le contrôle de modérateurs "
                "humains, et la procédure de recours interne."
            ),
            _(
                "Chatsite peut retirer un contenu ou restreindre un compte qui enfreint ces "
                "règles ou la loi, de façon proportionnée et en tenant compte des droits "
                "fondamentaux des personnes, dont la liberté d'expression. Chaque décision est "
                "motivée et peut être contestée."
            ),
        ),
        links=((_("Règles de la communauté"), "rules"),),
        page="terms",
    ),
    Clause(
        "T6",
        _("Signaler un contenu illégal"),
        (
            _(
                "Toute personne, membre ou non, peut nous notifier un contenu qu'elle estime "
                "illégal, par le formulaire prévu à cet effet (article 16 du règlement européen "
                "sur les services numériques). Nous l'examinons avec diligence et objectivité et "
                "informons son auteur de la suite donnée s'il a laissé une adresse e-mail."
            ),
        ),
        links=((_("Signaler un contenu illégal"), "moderation:notice"),),
        page="terms",
    ),
    Clause(
        "T7",
        _("Recours et règlement des litiges"),
        (
            _(
                "Toute décision de modération peut être contestée pendant six mois depuis la "
                "page « Mes décisions » (article 20 du règlement sur les services numériques). "
                "Vous pouvez aussi saisir un organisme de règlement extrajudiciaire des litiges "
                "certifié (article 21) ou les tribunaux."
            ),
        ),
        page="terms",
    ),
    Clause(
        "T8",
        _("Données personnelles"),
        (
            _(
                "Les données nécessaires au service et aux obligations légales de Chatsite sont "
                "traitées comme l'explique la politique de confidentialité, qui indique aussi "
                "combien de temps elles sont conservées et comment exercer vos droits."
            ),
        ),
        links=((_("Politique de confidentialité"), "privacy"),),
        page="terms",
    ),
    Clause(
        "T9",
        _("Disponibilité du service"),
        (
            _(
                "Nous faisons de notre mieux pour que Chatsite reste disponible, mais le service "
                "peut être interrompu pour maintenance ou en cas de panne, et ses fonctions "
                "peuvent évoluer."
            ),
        ),
        page="terms",
    ),
    Clause(
        "T10",
        _("Fermeture du compte"),
        (
            _(
                "Vous pouvez fermer votre compte à tout moment depuis la page « Mon compte ». "
                "Chatsite peut suspendre ou fermer un compte qui enfreint gravement ou de façon "
                "répétée ces conditions, par une décision motivée et contestable. Les données "
                "sont ensuite conservées le temps exigé par la loi, puis supprimées."
            ),
        ),
        page="terms",
    ),
    Clause(
        "T11",
        _("Responsabilité"),
        (
            _(
                "Chatsite héberge les messages de ses membres : il n'en est pas l'auteur et n'en "
                "répond que s'il ne les retire pas promptement après avoir eu connaissance de "
                "leur caractère illicite (article 6 de la loi pour la confiance dans l'économie "
                "numérique, articles 6 et 8 du règlement sur les services numériques)."
            ),
        ),
        page="terms",
    ),
    Clause(
        "T12",
        _("Modification des conditions"),
        (
            _(
                "Nous vous informerons de toute modification importante de ces conditions ou "
                "des règles de la communauté avant qu'elle ne prenne effet, par e-mail ou par "
                "un message sur le site. Si vous ne l'acceptez pas, vous pouvez fermer votre "
                "compte."
            ),
        ),
        page="terms",
    ),
    Clause(
        "T13",
        _("Droit applicable"),
        (
            _(
                "Ces conditions sont soumises au droit français. En cas de litige, et à défaut "
                "d'accord amiable, les tribunaux compétents sont ceux que désignent les règles "
                "de droit commun ; si vous êtes consommateur, vous gardez la protection des "
                "règles impératives du pays où vous résidez dans l'Union européenne."
            ),
        ),
        page="terms",
    ),
    Clause(
        "T14",
        _("Usage abusif : avertissement, puis suspension"),
        (
            lazy(_notifier_terms, str)(),
            lazy(_provider_terms, str)(),
            _(
                "Chaque mesure fait l'objet d'une décision motivée, visible sur la page « Mes "
                "décisions » et contestable comme toute décision de modération. Une suspension "
                "prend fin d'elle-même à la date indiquée ; les faits antérieurs à une "
                "suspension ne comptent plus pour la suivante."
            ),
        ),
        ground=Ground.TERMS_OTHER,
        page="terms",
    ),
)

_BY_CODE = {clause.code: clause for clause in (*RULES, *TERMS)}

# The clause a decision cites when the moderator named only a ground: the
# report's category gives a ground (models.CATEGORY_GROUND), the ground a clause.
GROUND_DEFAULT_CLAUSE = {
    Ground.TERMS_MINORS: "R2",
    Ground.TERMS_VIOLENCE: "R3",
    Ground.TERMS_HARASSMENT: "R4",
    Ground.TERMS_HATE: "R5",
    Ground.TERMS_SEXUAL: "R8",
    Ground.TERMS_SCAM: "R9",
    Ground.TERMS_SPAM: "R10",
    Ground.TERMS_PERSONAL_DATA: "R6",
    Ground.ILLEGAL: "R11",
    # TERMS_OTHER names no rule in particular: the moderator picks one.
}


def clause(code: str) -> Clause | None:
    return _BY_CODE.get(code)


def citable_clauses() -> list[Clause]:
    return [rule for rule in RULES if rule.citable]


def clause_choices() -> list[tuple[str, str]]:
    """The `choices` of the clause fields: a callable, so that rewording a rule
    never needs a migration (Django stores the reference, not the list)."""
    return [(rule.code, f"{rule.code} · {rule.title}") for rule in citable_clauses()]


def default_clause(ground: str | None) -> str:
    return GROUND_DEFAULT_CLAUSE.get(ground, "") if ground else ""
