"""Forms: parse and check input; the actions do the work (STYLE.md)."""

import datetime

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.documents import MAX_DOCUMENT_BYTES
from accounts.models import DirectMessagePolicy
from accounts.pseudonyms import PSEUDONYM_MAX_LENGTH, PSEUDONYM_MIN_LENGTH

ADULT_AGE = 18
# Beyond this a date of birth is a typo, not a member.
OLDEST_PLAUSIBLE_AGE = 120


def age_on(date_of_birth: datetime.date, today: datetime.date) -> int:
    had_birthday = (today.month, today.day) >= (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - (0 if had_birthday else 1)


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form plus the declared date of birth (YYYY-MM-DD)."""

    date_of_birth = forms.DateField(
        label=_("Date de naissance"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "Chatsite est réservé aux personnes de 18 ans et plus : cette date refuse "
            "tout de suite l'inscription d'un mineur. Elle n'est jamais montrée aux membres. "
            "Une date déclarée ne prouvant rien, vous vérifierez ensuite votre âge une fois "
            "(étape 3) ; la date est alors effacée."
        ),
        error_messages={"invalid": _("Saisissez une date au format AAAA-MM-JJ.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        email = self.fields.get("email")
        if email is not None:
            # Onboarding copy (docs/pages.md): say who sees it before it is typed.
            email.label = _("Adresse e-mail")
            email.help_text = _("Jamais montrée aux autres membres.")
        username = self.fields.get("username")
        if username is not None:
            username.label = _("Pseudonyme")
            username.widget.attrs["placeholder"] = _("Pseudonyme")
            username.help_text = _(
                "Votre nom public : %(min)d à %(max)d caractères, lettres, chiffres, _ - ."
            ) % {"min": PSEUDONYM_MIN_LENGTH, "max": PSEUDONYM_MAX_LENGTH}
            username.widget.attrs.update(
                {"minlength": PSEUDONYM_MIN_LENGTH, "maxlength": PSEUDONYM_MAX_LENGTH}
            )

    def clean_date_of_birth(self) -> datetime.date:
        date_of_birth = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if date_of_birth > today:
            raise forms.ValidationError(
                _("La date de naissance ne peut pas être dans le futur."), code="future"
            )
        age = age_on(date_of_birth, today)
        if age > OLDEST_PLAUSIBLE_AGE:
            raise forms.ValidationError(
                _("Vérifiez l'année de votre date de naissance."), code="implausible"
            )
        if age < ADULT_AGE:
            raise forms.ValidationError(
                _(
                    "Chatsite est réservé aux adultes : il faut avoir 18 ans ou plus pour "
                    "créer un compte. Aucune donnée n'a été enregistrée."
                ),
                code="under_18",
            )
        return date_of_birth


class DirectMessagePolicyForm(forms.Form):
    direct_messages_from = forms.ChoiceField(
        label=_("Qui peut m'envoyer des messages privés ?"),
        choices=DirectMessagePolicy.choices,
        widget=forms.RadioSelect,
    )


class IdentityDocumentForm(forms.Form):
    document = forms.FileField(
        label=_("Pièce d'identité (JPEG, PNG ou PDF, 10 Mo au plus)"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )

    def clean_document(self):
        document = self.cleaned_data["document"]
        # Checked again, by content, when stored; this spares reading a huge file.
        if document.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError(_("Le fichier dépasse 10 Mo."), code="too_large")
        return document


class AccountDeletionForm(forms.Form):
    password = forms.CharField(
        label=_("Mot de passe actuel"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("Je comprends que mon compte sera fermé et ne pourra plus être utilisé."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("Mot de passe incorrect."), code="wrong_password")
        return password


class TOTPConfirmForm(forms.Form):
    token = forms.CharField(
        label=_("Code à 6 chiffres affiché par l'application"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )


class DocumentDecision(forms.Form):
    APPROVE = "approve"
    REJECT = "reject"

    decision = forms.ChoiceField(
        label=_("Décision"),
        choices=[(APPROVE, _("Accepter : la personne a 18 ans ou plus")), (REJECT, _("Refuser"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Motif du refus (montré à la personne)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.REJECT and not data.get("reason", "").strip():
            self.add_error("reason", _("Indiquez le motif du refus."))
        return data
