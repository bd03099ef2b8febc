from django import forms
from django.utils.translation import gettext_lazy as _

MIN_REASON_LENGTH = 10
REASON_FIELD = "access_reason"


class AccessReasonForm(forms.Form):
    """Why a staff member needs to see someone's personal data (kept in the audit trail)."""

    access_reason = forms.CharField(
        label=_("Motif de la consultation"),
        help_text=_(
            "Par exemple : « signalement n° 1234 », « réquisition judiciaire 2026-17 ». "
            "Le motif est enregistré dans le journal d'audit."
        ),
        min_length=MIN_REASON_LENGTH,
        max_length=500,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
