"""Forms of the room pages: creating a private room, inviting into it."""

from django import forms
from django.utils.translation import gettext_lazy as _


class PrivateRoomForm(forms.Form):
    name = forms.CharField(label=_("Nom du salon privé"), min_length=3, max_length=80, strip=True)
    description = forms.CharField(
        label=_("Description (facultative)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class InviteForm(forms.Form):
    username = forms.CharField(label=_("Pseudonyme à inviter"), max_length=150, strip=True)
