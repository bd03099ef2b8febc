"""Forms of the public notice page, appeals and the moderators' admin pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.models import (
    DETAILS_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    EscalationAuthority,
    EscalationItem,
    EscalationTier,
    Ground,
    PharosCategory,
    ReportCategory,
    SanctionKind,
    clause_choices,
    provision_choices,
)
from rooms.models import Room, RoomKind

# Decisions start on a blank choice (issue 18): a hasty submit must not apply the
# first measure or ground of a list, and the form says what is missing.
_CHOOSE_MEASURE = _("Choisissez une mesure.")
_CHOOSE_GROUND = _("Choisissez le fondement de la décision.")


def _blank(label, choices) -> list:
    return [("", label), *choices]


def _clause_field() -> forms.ChoiceField:
    """The rule a decision cites; left empty, the ground's usual rule (rules.py)."""
    return forms.ChoiceField(
        label=_("Règle enfreinte"),
        choices=lambda: [("", _("— celle du fondement —")), *clause_choices()],
        required=False,
        help_text=_(
            "Citée et liée dans l'exposé des motifs. Texte des règles : /rules/. Vide : la "
            "règle habituelle du fondement choisi."
        ),
    )


def _provision_field() -> forms.ChoiceField:
    """The law an illegal-content decision rests on (moderation/legal_provisions.py)."""
    return forms.ChoiceField(
        label=_("Disposition légale (contenu illégal)"),
        choices=lambda: [("", "—"), *provision_choices()],
        required=False,
        help_text=_(
            "Obligatoire quand le fondement est un contenu illégal : l'article de loi, cité et "
            "lié dans l'exposé des motifs."
        ),
    )


class NoticeForm(forms.Form):
    """DSA Art. 16: works without an account."""

    category = forms.ChoiceField(
        label=_("Type de contenu"),
        choices=_blank(_("— Choisissez un type —"), ReportCategory.choices),
        error_messages={"required": _("Choisissez le type de contenu signalé.")},
    )
    location = forms.URLField(
        label=_("Adresse exacte du contenu (URL)"),
        max_length=500,
        help_text=_("Par exemple l'adresse du salon, suivie de #message-<numéro>."),
    )
    explanation = forms.CharField(
        label=_("Pourquoi ce contenu est-il illégal ?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=DETAILS_MAX_LENGTH,
    )
    name = forms.CharField(label=_("Votre nom (facultatif)"), max_length=200, required=False)
    email = forms.EmailField(
        label=_("Votre adresse e-mail (facultative, pour l'accusé de réception et la suite)"),
        required=False,
    )
    good_faith = forms.BooleanField(
        label=_(
            "Je déclare de bonne foi que les informations et allégations de cette "
            "notification sont exactes et complètes."
        ),
    )


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Pourquoi contestez-vous cette décision ?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=DETAILS_MAX_LENGTH,
    )


class SanctionForm(forms.Form):
    """The admin's sanction form (and the decision form's measure)."""

    user = forms.CharField(label=_("Pseudonyme"), max_length=150)
    kind = forms.ChoiceField(
        label=_("Mesure"),
        choices=_blank(_("— Choisissez une mesure —"), SanctionKind.choices),
        error_messages={"required": _CHOOSE_MEASURE},
    )
    room = forms.ModelChoiceField(
        label=_("Salon (vide : tout le site)"), queryset=Room.objects.all(), required=False
    )
    duration_minutes = forms.IntegerField(
        label=_("Durée en minutes (vide : définitive)"), min_value=1, required=False
    )
    ground = forms.ChoiceField(
        label=_("Fondement"),
        choices=_blank(_("— Choisissez un fondement —"), Ground.choices),
        error_messages={"required": _CHOOSE_GROUND},
    )
    clause = _clause_field()
    legal_provision = _provision_field()
    reason = forms.CharField(
        label=_("Motif (communiqué à la personne)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=REASON_MAX_LENGTH,
    )


class DecisionForm(forms.Form):
    OUTCOME_DISMISS = "dismiss"
    outcome = forms.ChoiceField(
        label=_("Décision"),
        choices=[
            ("", _("— Choisissez une décision —")),
            ("remove", _("Supprimer le message")),
            ("remove_warn", _("Supprimer le message et avertir")),
            ("warn", _("Avertir")),
            ("mute", _("Mettre en sourdine")),
            ("kick", _("Exclure temporairement")),
            ("ban", _("Bannir")),
            ("remove_ban", _("Supprimer le message et bannir")),
            (OUTCOME_DISMISS, _("Classer sans suite")),
        ],
        error_messages={"required": _("Choisissez une décision.")},
    )
    site_wide = forms.BooleanField(
        label=_("Sur tout le site (sinon : dans le salon du signalement)"), required=False
    )
    duration_minutes = forms.IntegerField(
        label=_("Durée en minutes (vide : définitive)"), min_value=1, required=False
    )
    # Required unless the report is dismissed (clean).
    ground = forms.ChoiceField(
        label=_("Fondement"),
        choices=_blank(_("— Choisissez un fondement —"), Ground.choices),
        required=False,
    )
    clause = _clause_field()
    legal_provision = _provision_field()
    reason = forms.CharField(
        label=_("Décision motivée"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=REASON_MAX_LENGTH,
    )
    manifestly_unfounded = forms.BooleanField(
        label=_("Signalement manifestement infondé (compte pour son auteur)"), required=False
    )
    threat_to_life = forms.BooleanField(
        label=_("Menace pour la vie ou la sécurité : préparer le signalement aux autorités"),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") not in (None, "", self.OUTCOME_DISMISS) and not data.get("ground"):
            self.add_error("ground", _CHOOSE_GROUND)
        return data


class AppealDecisionForm(forms.Form):
    reverse_decision = forms.TypedChoiceField(
        label=_("Décision"),
        choices=[("0", _("Maintenir la décision")), ("1", _("Annuler la décision"))],
        coerce=lambda value: value == "1",
    )
    answer = forms.CharField(
        label=_("Réponse motivée"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=REASON_MAX_LENGTH,
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}), max_length=REASON_MAX_LENGTH
    )


class RemovalForm(ReasonForm):
    """A removal's basis, for the statement of reasons each author receives."""

    ground = forms.ChoiceField(label=_("Fondement"), choices=Ground.choices, required=False)
    clause = _clause_field()
    legal_provision = _provision_field()


class TransmissionForm(forms.Form):
    """What was sent to the authority, as the moderator sent it (DSA Art. 18)."""

    authority = forms.ChoiceField(label=_("Autorité"), choices=EscalationAuthority.choices)
    reference = forms.CharField(
        label=_("Référence"),
        max_length=100,
        required=False,
        help_text=_("Le numéro de signalement que PHAROS affiche après l'envoi (obligatoire)."),
    )
    category = forms.ChoiceField(
        label=_("Catégorie choisie sur PHAROS"),
        choices=_blank(_("— Choisissez une catégorie —"), PharosCategory.choices),
        required=False,
    )
    items = forms.MultipleChoiceField(
        label=_("Éléments transmis"),
        choices=EscalationItem.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Cochez ce que vous avez transmis.")},
    )
    summary = forms.CharField(
        label=_("Texte saisi dans le formulaire"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean(self):
        data = super().clean()
        if data.get("authority") == EscalationAuthority.PHAROS:
            if not data.get("reference"):
                self.add_error("reference", _("Indiquez le numéro donné par PHAROS."))
            if not data.get("category"):
                self.add_error("category", _("Choisissez la catégorie choisie sur PHAROS."))
        return data


class DeclineEscalationForm(forms.Form):
    decline_reason = forms.CharField(
        label=_("Pourquoi ne pas transmettre"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BanPurgeForm(forms.Form):
    """The admin's "Bannir et purger": a ban, and the person's messages of the
    last N hours hidden everywhere (moderation/actions/purges.py)."""

    user = forms.CharField(label=_("Pseudonyme"), max_length=150)
    room = forms.ModelChoiceField(
        label=_("Bannir du salon (vide : de tout le site)"),
        queryset=Room.objects.exclude(kind="direct"),
        required=False,
    )
    duration_minutes = forms.IntegerField(
        label=_("Durée du bannissement en minutes (vide : définitif)"), min_value=1, required=False
    )
    purge_hours = forms.IntegerField(
        label=_("Masquer ses messages des N dernières heures (salons et conversations)"),
        min_value=1,
        help_text=_("Les messages sont masqués, pas effacés : recours et réquisitions les voient."),
    )
    ground = forms.ChoiceField(
        label=_("Fondement"),
        choices=_blank(_("— Choisissez un fondement —"), Ground.choices),
        error_messages={"required": _CHOOSE_GROUND},
    )
    clause = _clause_field()
    legal_provision = _provision_field()
    reason = forms.CharField(
        label=_("Motif (communiqué à la personne)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=REASON_MAX_LENGTH,
    )


# --- the live console's moves on a report (admin_console.py) ---------------------------------


class ReassignForm(forms.Form):
    """Hands a report to another member of the team who may work it."""

    to_user = forms.ModelChoiceField(
        label=_("Confier à"), queryset=None, empty_label=_("— Choisissez un modérateur —")
    )
    reason = forms.CharField(
        label=_("Motif (facultatif)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=REASON_MAX_LENGTH,
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = candidates
        self.fields["to_user"].label_from_instance = lambda user: user.get_username()


class EscalateForm(forms.Form):
    """Hands a report up: to the senior moderators or to compliance."""

    tier = forms.ChoiceField(
        label=_("Transmettre à"),
        choices=[("", _("— Choisissez à qui —")), *EscalationTier.choices],
    )
    reason = forms.CharField(
        label=_("Pourquoi"), widget=forms.Textarea(attrs={"rows": 2}), max_length=REASON_MAX_LENGTH
    )


class ThreadMessageForm(forms.Form):
    """A message of the thread between the moderator and the reporter."""

    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=DETAILS_MAX_LENGTH
    )


class RaidModeForm(ReasonForm):
    """Switching raid mode on from the back office (moderation/admin.py)."""

    room = forms.ModelChoiceField(
        label=_("Salon"),
        queryset=Room.objects.exclude(kind=RoomKind.DIRECT).filter(is_archived=False),
        required=False,
        empty_label=_("Tout le site"),
        help_text=_(
            "Tout le site : inscriptions suspendues, nouvelles conversations privées des "
            "comptes récents refusées. Partout : premiers messages des comptes récents "
            "retenus, mode lent relevé."
        ),
    )
    duration_minutes = forms.IntegerField(
        label=_("Durée (minutes)"),
        min_value=1,
        max_value=7 * 24 * 60,
        required=False,
        help_text=_("Vide : la durée par défaut (RAID_MODE_DURATION_MINUTES)."),
    )
    field_order = ["room", "duration_minutes", "reason"]


class RaidExtensionForm(ReasonForm):
    minutes = forms.IntegerField(
        label=_("Prolonger de (minutes)"), min_value=1, max_value=7 * 24 * 60, initial=60
    )
    field_order = ["minutes", "reason"]


class ModeratorNoteForm(forms.Form):
    """A moderator's note about an account (moderation/actions/notes.py)."""

    body = forms.CharField(
        label=_("Note (visible par l'équipe seulement)"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Des faits et leur source, sans jugement sur la personne : la personne peut "
            "en recevoir copie au titre de son droit d'accès (docs/moderation.md)."
        ),
    )


class NewModeratorNoteForm(ModeratorNoteForm):
    subject = forms.CharField(label=_("Pseudonyme du compte"), max_length=150)

    field_order = ["subject", "body"]
