"""Public reference pages of compliance: the privacy policy (GDPR Art. 13), the
legal notice (LCEN art. 6-III), the contact for authorities (DSA Art. 11) and
the published transparency reports (DSA Art. 15 and 24), each in HTML and CSV.

The durations on these pages come from the retention policy the purge applies
(retention.py, `COMPLIANCE_RETENTION`), never from the template: the page and
the purge cannot disagree. Names and addresses come from settings (LEGAL_*).
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET

from compliance import disclosures, transparency
from compliance.models import PublishedTransparencyReport
from compliance.retention import retention_policy

DAYS_PER_YEAR = 365


def duration_text(days: int) -> str:
    """ "1 an", "5 ans", "30 jours": whole years when the count is one, else days."""
    if days % DAYS_PER_YEAR == 0:
        years = days // DAYS_PER_YEAR
        return ngettext("%(count)d an", "%(count)d ans", years) % {"count": years}
    return ngettext("%(count)d jour", "%(count)d jours", days) % {"count": days}


@dataclass(frozen=True)
class RetentionRow:
    data: Promise
    duration: str
    basis: Promise
    # The policy key (compliance.retention.DEFAULT_RETENTION_DAYS) whose period
    # the duration states; empty for data kept while the account is open.
    key: str = ""


def retention_rows() -> list[RetentionRow]:
    """What is kept, for how long and why, in the order a member thinks of it."""
    days = retention_policy().as_days()
    return [
        RetentionRow(
            gettext_lazy(
                "Votre compte (pseudonyme, adresse e-mail, date de naissance jusqu'à la "
                "vérification de l'âge, puis seulement « 18 ans ou plus » avec la méthode et la "
                "date de la vérification) et vos messages"
            ),
            _("tant que le compte est ouvert"),
            gettext_lazy("exécution du contrat (conditions d'utilisation)"),
        ),
        RetentionRow(
            gettext_lazy(
                "Journaux de connexion : adresse IP, port source, date et heure de chaque connexion"
            ),
            _("%(duration)s à compter de la connexion")
            % {"duration": duration_text(days["content_operations"])},
            gettext_lazy(
                "obligation légale : identifier l'auteur d'un contenu sur réquisition "
                "(décret n° 2021-1362)"
            ),
            key="content_operations",
        ),
        RetentionRow(
            gettext_lazy(
                "Traces de création, de modification et de suppression des messages (qui, "
                "quand, dans quel salon, depuis quelle adresse IP, quel port et quel protocole, "
                "sans le texte)"
            ),
            _("%(duration)s à compter de l'opération")
            % {"duration": duration_text(days["content_operations"])},
            gettext_lazy("obligation légale (décret n° 2021-1362)"),
            key="content_operations",
        ),
        RetentionRow(
            gettext_lazy(
                "Présence dans les salons : quand vous aviez un salon ouvert (de quelle heure "
                "à quelle heure), pour savoir qui a pu voir un message signalé"
            ),
            _("%(duration)s à compter de votre départ du salon")
            % {"duration": duration_text(days["presence_intervals"])},
            gettext_lazy(
                "intérêt légitime : traiter les signalements et répondre aux réquisitions "
                "judiciaires"
            ),
            key="presence_intervals",
        ),
        RetentionRow(
            gettext_lazy("Texte d'un message supprimé (masqué aussitôt)"),
            _("%(duration)s après la suppression")
            % {"duration": duration_text(days["deleted_message_grace"])},
            gettext_lazy(
                "intérêt légitime : permettre un recours contre la décision ou une "
                "réquisition judiciaire"
            ),
            key="deleted_message_grace",
        ),
        RetentionRow(
            gettext_lazy(
                "Après la fermeture du compte : pseudonymes portés, dates, empreinte du mot de "
                "passe (jamais le mot de passe), résultat de la vérification d'âge ; votre "
                "pseudonyme reste réservé pendant ce temps"
            ),
            _("%(duration)s après la fermeture")
            % {"duration": duration_text(days["account_data"])},
            gettext_lazy("obligation légale (décret n° 2021-1362)"),
            key="account_data",
        ),
        RetentionRow(
            gettext_lazy(
                "Après la fermeture du compte : adresse e-mail, et date de naissance déclarée "
                "si l'âge n'a jamais été vérifié"
            ),
            _("%(duration)s après la fermeture")
            % {"duration": duration_text(days["identity_data"])},
            gettext_lazy(
                "obligation légale : informations fournies à la création du compte (décret "
                "n° 2021-1362)"
            ),
            key="identity_data",
        ),
        RetentionRow(
            gettext_lazy("Pièce d'identité envoyée pour vérifier l'âge"),
            _(
                "supprimée dès la décision, ou après %(duration)s sans examen ; seule la "
                "décision est gardée"
            )
            % {"duration": duration_text(days["pending_identity_documents"])},
            gettext_lazy("intérêt légitime : réserver le service aux adultes"),
            key="pending_identity_documents",
        ),
        RetentionRow(
            gettext_lazy(
                "Signalements (avec l'extrait de conversation relevé, dont les textes effacés "
                "sont retirés avec le message), notifications, décisions de modération, exposés "
                "des motifs, recours, messages retenus, signaux de sécurité et signalements aux "
                "autorités vous concernant"
            ),
            _(
                "%(duration)s après la clôture du dossier (décision prise, délai de recours "
                "passé, mesure terminée)"
            )
            % {"duration": duration_text(days["moderation_records"])},
            gettext_lazy(
                "obligations légales du règlement sur les services numériques (articles 16 "
                "à 20 et 24) et sécurité des membres"
            ),
            key="moderation_records",
        ),
        RetentionRow(
            gettext_lazy(
                "Sanctions prises contre votre compte (avertissement, sourdine, exclusion, "
                "bannissement) avec leur motif"
            ),
            _(
                "%(duration)s après la fin de la sanction (levée ou échue ; un avertissement "
                "finit le jour où il est donné ; un bannissement définitif est gardé tant "
                "qu'il s'applique)"
            )
            % {"duration": duration_text(days["sanctions"])},
            gettext_lazy(
                "obligations légales du règlement sur les services numériques (recours des "
                "articles 20 et 21, rapport de transparence des articles 15 et 24)"
            ),
            key="sanctions",
        ),
        RetentionRow(
            gettext_lazy(
                "Mesures contre les abus (article 23 du règlement sur les services "
                "numériques) : avertissement, suspension de vos signalements ou de votre "
                "compte, avec les chiffres qui les ont justifiées"
            ),
            _(
                "%(duration)s après la fin de la mesure (sa période d'observation écoulée "
                "et la suspension terminée)"
            )
            % {"duration": duration_text(days["misuse_measures"])},
            gettext_lazy(
                "obligation légale (article 23 du règlement sur les services numériques) et "
                "droit de contester la mesure"
            ),
            key="misuse_measures",
        ),
        RetentionRow(
            gettext_lazy(
                "Notes des modérateurs sur votre compte (visibles de l'équipe seulement ; "
                "communiquées sur demande d'accès, sauf pendant une enquête en cours)"
            ),
            _(
                "%(duration)s après leur dernière modification, plus longtemps tant qu'un "
                "signalement vous concernant ou un recours de votre part est ouvert"
            )
            % {"duration": duration_text(days["moderator_notes"])},
            gettext_lazy(
                "intérêt légitime : la cohérence des décisions de modération et la "
                "sécurité des membres"
            ),
            key="moderator_notes",
        ),
        RetentionRow(
            gettext_lazy(
                "Copie des données remises à la justice sur réquisition (le paquet exporté)"
            ),
            _("%(duration)s après la réponse à la réquisition")
            % {"duration": duration_text(days["requisition_packages"])},
            gettext_lazy(
                "obligation légale : répondre aux réquisitions judiciaires (code de procédure "
                "pénale) ; son empreinte seule reste ensuite, pour prouver ce qui a été transmis"
            ),
            key="requisition_packages",
        ),
        RetentionRow(
            gettext_lazy(
                "Sauvegardes de la base de données (une copie de tout ce qui précède, à "
                "une date donnée, gardée à l'abri)"
            ),
            _(
                "%(duration)s après la sauvegarde, sauf si une conservation demandée par la "
                "justice en exige une plus ancienne"
            )
            % {"duration": duration_text(days["backups"])},
            gettext_lazy(
                "obligation de sécurité (RGPD, article 32) : pouvoir rétablir le service "
                "après un incident"
            ),
            key="backups",
        ),
    ]


def _legal_context() -> dict:
    return {
        "publisher": settings.LEGAL_PUBLISHER_NAME,
        "registration": settings.LEGAL_PUBLISHER_REGISTRATION,
        "address": settings.LEGAL_ADDRESS,
        "phone": settings.LEGAL_PHONE,
        "contact_email": settings.LEGAL_CONTACT_EMAIL,
        "director": settings.LEGAL_DIRECTOR_NAME,
        "host_name": settings.LEGAL_HOST_NAME,
        "host_address": settings.LEGAL_HOST_ADDRESS,
        "host_phone": settings.LEGAL_HOST_PHONE,
        "privacy_email": settings.PRIVACY_CONTACT_EMAIL,
        "authorities_email": settings.AUTHORITIES_CONTACT_EMAIL,
    }


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "compliance/privacy.html",
        {
            **_legal_context(),
            "title": _("Politique de confidentialité"),
            "retention": retention_rows(),
            "processors": disclosures.processors(),
            "authority_disclosures": disclosures.authority_disclosures(),
        },
    )


@require_GET
def legal_notice(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "compliance/legal_notice.html",
        {**_legal_context(), "title": _("Mentions légales")},
    )


@require_GET
def authorities(request: HttpRequest) -> HttpResponse:
    days = retention_policy().as_days()
    return render(
        request,
        "compliance/authorities.html",
        {
            **_legal_context(),
            "title": _("Autorités : réquisitions et urgences"),
            "connections_kept": duration_text(days["content_operations"]),
            "identity_kept": duration_text(days["identity_data"]),
            "deleted_text_kept": duration_text(days["deleted_message_grace"]),
        },
    )


@require_GET
def transparency_index(request: HttpRequest) -> HttpResponse:
    """GET /transparency/: every published report, newest period first."""
    return render(
        request,
        "compliance/transparency_index.html",
        {
            "title": _("Rapports de transparence"),
            "reports": PublishedTransparencyReport.objects.all(),
        },
    )


def _published(period: str) -> PublishedTransparencyReport:
    """ "2026-01-01_2026-06-30" -> the report published for that period, or 404."""
    start, _sep, end = period.partition("_")
    try:
        start_day, end_day = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise Http404 from None
    return get_object_or_404(
        PublishedTransparencyReport, period_start=start_day, period_end=end_day
    )


@require_GET
def transparency_report(request: HttpRequest, period: str) -> HttpResponse:
    published = _published(period)
    return render(
        request,
        "compliance/transparency_published.html",
        {
            "title": _("Rapport de transparence du %(start)s au %(end)s")
            % {"start": published.period_start, "end": published.period_end},
            "published": published,
            "sections": transparency.template_sections(published.figures),
            **transparency.chart_context(published.figures),
        },
    )


@require_GET
def transparency_report_csv(request: HttpRequest, period: str) -> HttpResponse:
    published = _published(period)
    response = HttpResponse(
        transparency.render_csv(published.figures), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="chatsite-transparency-{published.slug}.csv"'
    )
    return response
