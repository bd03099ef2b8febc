"""Forms of the compliance back office; the actions do the checking that matters."""

from datetime import date, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.staff import COMPLIANCE
from audit.forms import MIN_REASON_LENGTH
from compliance.actions.legal_requests import resolve_named_pseudonyms
from compliance.models import (
    REASON_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    DataCategory,
    LegalBasis,
    OrderKind,
)
from compliance.orders import NATIONAL_PRESERVATION_MAX_DAYS
from core.refusals import Refused
from moderation.legal_provisions import provision_choices
from rooms.models import Message, Room

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
# One removal order names a handful of messages; more is a list to split.
MAX_ORDER_CONTENTS = 200
# The dashboard's default window.
DEFAULT_DASHBOARD_DAYS = 365


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.replace("\n", ",").split(",") if name.strip()]


class LegalRequestForm(forms.Form):
    """Registers an authority's order of any kind; the action checks what each
    kind needs (compliance/actions/legal_requests.py, do_open_legal_request)."""

    reference = forms.CharField(label=_("Référence"), max_length=REFERENCE_MAX_LENGTH)
    kind = forms.ChoiceField(
        label=_("Nature"),
        choices=OrderKind.choices,
        initial=OrderKind.DATA_REQUEST,
        required=False,
        help_text=_(
            "L'échéance se calcule à partir de la réception : une heure pour un contenu "
            "terroriste, 24 heures pour un retrait LCEN, 10 jours (8 heures en urgence) pour "
            "une injonction européenne de production, 24 heures pour une conservation."
        ),
    )
    emergency = forms.BooleanField(
        label=_("Urgence (injonction européenne de production : 8 heures)"), required=False
    )
    authority = forms.CharField(label=_("Autorité requérante"), max_length=200)
    legal_basis = forms.ChoiceField(label=_("Fondement"), choices=LegalBasis.choices)
    legal_basis_detail = forms.CharField(
        label=_("Précision du fondement"), max_length=200, required=False
    )
    received_at = forms.DateTimeField(
        label=_("Reçue le"),
        widget=DATETIME_INPUT,
        help_text=_("L'heure d'arrivée de l'injonction, d'où court le délai."),
    )
    deadline = forms.DateTimeField(
        label=_("À répondre avant"),
        widget=DATETIME_INPUT,
        required=False,
        help_text=_(
            "Le délai fixé par l'injonction : requis pour une réquisition et une injonction "
            "de l'article 9 ; pour les autres, retenu s'il est plus court que le délai légal."
        ),
    )
    contents = forms.CharField(
        label=_("Messages visés (retrait)"),
        required=False,
        help_text=_("Numéros des messages à retirer, séparés par des virgules."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    legal_provision = forms.ChoiceField(
        label=_("Disposition légale enfreinte (retrait)"), required=False, choices=()
    )
    preserve_days = forms.IntegerField(
        label=_("Durée de conservation en jours (réquisition de conservation)"),
        required=False,
        min_value=1,
        max_value=NATIONAL_PRESERVATION_MAX_DAYS,
    )
    secret = forms.BooleanField(
        label=_("L'autorité demande que la personne visée n'en soit pas informée"),
        required=False,
    )
    secrecy_reason = forms.CharField(
        label=_("Demande de confidentialité (motif, référence)"), max_length=500, required=False
    )
    secrecy_until = forms.DateTimeField(
        label=_("Confidentialité jusqu'au"),
        widget=DATETIME_INPUT,
        required=False,
        help_text=_("Vide : jusqu'à ce que l'autorité la lève."),
    )
    accounts = forms.CharField(
        label=_("Comptes visés"),
        required=False,
        help_text=_(
            "Pseudonymes ou numéros de compte, séparés par des virgules. Un pseudonyme désigne "
            "le ou les comptes qui l'ont porté pendant la période demandée, pas forcément "
            "celui qui le porte aujourd'hui."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    allow_ambiguous = forms.BooleanField(
        label=_(
            "Viser tous les comptes qui ont porté un pseudonyme désigné pendant la période "
            "(quand il y en a plusieurs)"
        ),
        required=False,
    )
    rooms = forms.CharField(
        label=_("Salons visés"),
        required=False,
        help_text=_("Identifiants des salons, séparés par des virgules."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    period_start = forms.DateTimeField(
        label=_("Période : du"),
        widget=DATETIME_INPUT,
        required=False,
        help_text=_("Pour un retrait : vide, la période des messages visés."),
    )
    period_end = forms.DateTimeField(label=_("Période : au"), widget=DATETIME_INPUT, required=False)
    data_categories = forms.MultipleChoiceField(
        label=_("Catégories de données"),
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    assigned_officer = forms.ModelChoiceField(
        label=_("Agent chargé"), queryset=get_user_model().objects.none()
    )
    place_holds = forms.BooleanField(
        label=_("Poser une conservation légale sur les comptes et salons visés"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_officer"].queryset = get_user_model().objects.filter(
            is_active=True, groups__name=COMPLIANCE
        )
        self.fields["legal_provision"].choices = [("", "-"), *provision_choices()]

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or OrderKind.DATA_REQUEST

    def clean_contents(self) -> list:
        ids = _names(self.cleaned_data["contents"])
        if any(not value.isdigit() for value in ids):
            raise forms.ValidationError(_("Des numéros de message, séparés par des virgules."))
        if len(ids) > MAX_ORDER_CONTENTS:
            raise forms.ValidationError(
                _("Au plus %(max)d messages par injonction.") % {"max": MAX_ORDER_CONTENTS}
            )
        found = {message.pk: message for message in Message.objects.filter(pk__in=ids)}
        missing = [value for value in ids if int(value) not in found]
        if missing:
            raise forms.ValidationError(
                _("Message inconnu : %(ids)s") % {"ids": ", ".join(missing)}
            )
        return [found[int(value)] for value in dict.fromkeys(ids)]

    def clean_accounts(self) -> list:
        """Account numbers here; pseudonyms are resolved over the period in clean()."""
        users = []
        model = get_user_model()
        self.named_pseudonyms = []
        for name in _names(self.cleaned_data["accounts"]):
            if not name.isdigit():
                self.named_pseudonyms.append(name)
                continue
            user = model.objects.filter(pk=int(name)).first()
            if user is None:
                raise forms.ValidationError(_("Compte inconnu : %(name)s") % {"name": name})
            users.append(user)
        return users

    def clean(self):
        data = super().clean()
        names = getattr(self, "named_pseudonyms", [])
        data["named_pseudonyms"] = names
        start, end = data.get("period_start"), data.get("period_end")
        if names and start and end and start <= end:
            # The action resolves them again, in its transaction; this shows the
            # officer the warning before anything is recorded.
            try:
                resolve_named_pseudonyms(
                    names, start, end, allow_ambiguous=data.get("allow_ambiguous", False)
                )
            except Refused as refusal:
                self.add_error("accounts", refusal.detail)
        return data

    def clean_rooms(self) -> list:
        rooms = []
        for slug in _names(self.cleaned_data["rooms"]):
            room = Room.objects.filter(slug=slug).first()
            if room is None:
                raise forms.ValidationError(_("Salon inconnu : %(slug)s") % {"slug": slug})
            rooms.append(room)
        return rooms


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("Du"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Au"), widget=forms.DateInput(attrs={"type": "date"}))

    @staticmethod
    def default_period() -> tuple[date, date]:
        today = timezone.localdate()
        return today - timedelta(days=DEFAULT_DASHBOARD_DAYS - 1), today

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("La période se termine avant de commencer."))
        return data


class AddressLookupForm(forms.Form):
    """The reverse look-up: an address, a port, a time, and why."""

    ip_address = forms.GenericIPAddressField(label=_("Adresse IP"))
    port = forms.IntegerField(
        label=_("Port source"),
        required=False,
        min_value=1,
        max_value=65535,
        help_text=_("Indispensable derrière un NAT partagé (CGNAT)."),
    )
    when = forms.DateTimeField(label=_("Date et heure"), widget=DATETIME_INPUT)
    window_minutes = forms.IntegerField(
        label=_("Tolérance (minutes, de part et d'autre)"),
        initial=5,
        min_value=0,
        max_value=24 * 60,
    )
    reason = forms.CharField(
        label=_("Motif de la recherche"),
        min_length=MIN_REASON_LENGTH,
        max_length=500,
        help_text=_(
            "Par exemple : « réquisition PV-2026-0042 ». Enregistré dans le journal d'audit."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
