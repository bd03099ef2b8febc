"""The admin's generated phrases, in French that agrees with each model's name.

Django's admin builds its titles and buttons from a model's `verbose_name`
("Add %s", "Select %s to change", "Search %(name)s"), and its French catalogue
cannot know a noun's gender: it writes "Sélectionnez l'objet sanction à
changer", "Ajouter entrée du journal d'audit", "Affichage de exposé des
motifs". Here each model of the back office declares its gender (and a French
name for third parties' English ones); the admin templates
(templates/admin/*.html, through {% load admin_french %}) and the site's
"delete selected" action ask these functions for the phrase. The msgids are
French, one per form (un/une; le, la or l'), and English gets Django's own
wording (locale/en).

A model registered in the admin tomorrow must be declared in GENDERS:
tests/chatsite/test_admin_french.py walks the registry.
"""

from dataclasses import dataclass

from django.utils.translation import get_language, gettext
from django.utils.translation import gettext as _

MASCULINE, FEMININE = "m", "f"

# Every model of the admin, by label: its grammatical gender in French.
GENDERS = {
    "auth.group": MASCULINE,
    "account.emailaddress": FEMININE,
    "otp_totp.totpdevice": MASCULINE,
    "otp_static.staticdevice": MASCULINE,
    "audit.auditentry": FEMININE,
    "audit.stafflook": FEMININE,
    "accounts.user": MASCULINE,
    "accounts.connectionrecord": MASCULINE,
    "accounts.ageverificationattempt": FEMININE,
    "accounts.accountdeletionrequest": FEMININE,
    "accounts.identitydocument": MASCULINE,
    "rooms.room": MASCULINE,
    "rooms.message": MASCULINE,
    "rooms.privateroommessage": MASCULINE,
    "rooms.messagepresence": FEMININE,
    "rooms.directconversation": FEMININE,
    "rooms.block": MASCULINE,
    "rooms.contactrequest": FEMININE,
    "rooms.roominvitation": FEMININE,
    "moderation.report": MASCULINE,
    "moderation.sanction": FEMININE,
    "moderation.appeal": MASCULINE,
    "moderation.heldmessage": MASCULINE,
    "moderation.threatescalation": MASCULINE,
    "moderation.filterrule": MASCULINE,
    "moderation.trustedflagger": MASCULINE,
    "moderation.notice": FEMININE,
    "moderation.safetysignal": MASCULINE,
    "moderation.statementofreasons": MASCULINE,
    "moderation.moderationrecord": MASCULINE,
    "moderation.misusemeasure": FEMININE,
    "moderation.roommoderatoraction": FEMININE,
    "moderation.raidmode": MASCULINE,
    "moderation.moderatornote": FEMININE,
    "moderation.casefile": MASCULINE,
    "compliance.legalrequest": FEMININE,
    "compliance.legalhold": FEMININE,
    "compliance.restrictedrecord": FEMININE,
    "compliance.publishedtransparencyreport": MASCULINE,
}
# Third parties' models named in English: their French names (singular, plural).
FRENCH_NAMES = {
    "account.emailaddress": ("adresse e-mail", "adresses e-mail"),
    "otp_totp.totpdevice": ("appareil TOTP", "appareils TOTP"),
    "otp_static.staticdevice": ("jeu de codes de secours", "jeux de codes de secours"),
}
VOWELS = frozenset("aàâeéèêëiîïoôuùûüyh")  # no h aspiré among our model names


@dataclass(frozen=True)
class Noun:
    singular: str
    plural: str
    gender: str

    @property
    def feminine(self) -> bool:
        return self.gender == FEMININE

    @property
    def elided(self) -> bool:
        return self.singular[:1].lower() in VOWELS

    def article(self, masculine, feminine, elided) -> str:
        """The phrase with le, la or l' (each its own msgid: French has no catalogue)."""
        if self.elided:
            return str(elided)
        return str(feminine if self.feminine else masculine)


def noun(opts) -> Noun:
    label = opts.label_lower
    singular, plural = str(opts.verbose_name), str(opts.verbose_name_plural)
    if label in FRENCH_NAMES and (get_language() or "fr").startswith("fr"):
        singular, plural = FRENCH_NAMES[label]
    return Noun(singular, plural, GENDERS.get(label, MASCULINE))


def add_phrase(opts) -> str:
    name = noun(opts)
    phrase = _("Ajouter une %(name)s") if name.feminine else _("Ajouter un %(name)s")
    return phrase % {"name": name.singular}


def changelist_phrase(opts, *, may_change: bool) -> str:
    name = noun(opts)
    if may_change:
        phrase = (
            _("Choisissez une %(name)s à modifier")
            if name.feminine
            else _("Choisissez un %(name)s à modifier")
        )
    else:
        phrase = (
            _("Choisissez une %(name)s à consulter")
            if name.feminine
            else _("Choisissez un %(name)s à consulter")
        )
    return phrase % {"name": name.singular}


def change_phrase(opts, *, may_change: bool) -> str:
    name = noun(opts)
    if may_change:
        phrase = name.article(
            _("Modifier le %(name)s"), _("Modifier la %(name)s"), _("Modifier l'%(name)s")
        )
    else:
        phrase = name.article(
            _("Consulter le %(name)s"), _("Consulter la %(name)s"), _("Consulter l'%(name)s")
        )
    return phrase % {"name": name.singular}


def delete_question(opts, obj: str) -> str:
    name = noun(opts)
    phrase = name.article(
        _(
            "Voulez-vous vraiment supprimer le %(name)s « %(object)s » ? "
            "Les éléments suivants, qui en dépendent, seront supprimés aussi :"
        ),
        _(
            "Voulez-vous vraiment supprimer la %(name)s « %(object)s » ? "
            "Les éléments suivants, qui en dépendent, seront supprimés aussi :"
        ),
        _(
            "Voulez-vous vraiment supprimer l'%(name)s « %(object)s » ? "
            "Les éléments suivants, qui en dépendent, seront supprimés aussi :"
        ),
    )
    return phrase % {"name": name.singular, "object": obj}


def delete_selected_phrase(opts) -> str:
    name = noun(opts)
    phrase = (
        _("Supprimer les %(names)s sélectionnées")
        if name.feminine
        else _("Supprimer les %(names)s sélectionnés")
    )
    return phrase % {"names": name.plural}


def delete_selected_question(opts) -> str:
    name = noun(opts)
    phrase = (
        _(
            "Voulez-vous vraiment supprimer les %(names)s sélectionnées ? "
            "Les éléments suivants, qui en dépendent, seront supprimés aussi :"
        )
        if name.feminine
        else _(
            "Voulez-vous vraiment supprimer les %(names)s sélectionnés ? "
            "Les éléments suivants, qui en dépendent, seront supprimés aussi :"
        )
    )
    return phrase % {"names": name.plural}


def generated_title(title, opts) -> str:
    """`title` in agreeing French when it is one of the admin's generated titles
    ("Select %s to change", "Add %s"...); any other title (a page's own) as given.
    Compared in the active language through Django's own catalogue."""
    if opts is None or not title:
        return title
    verbose = str(opts.verbose_name)
    for generated, ours in (
        ("Select %s to change", lambda: changelist_phrase(opts, may_change=True)),
        ("Select %s to view", lambda: changelist_phrase(opts, may_change=False)),
        ("Add %s", lambda: add_phrase(opts)),
        ("Change %s", lambda: change_phrase(opts, may_change=True)),
        ("View %s", lambda: change_phrase(opts, may_change=False)),
    ):
        if str(title) == gettext(generated) % verbose:
            return ours()
    return title


class _DeleteSelectedDescription:
    """The description of the site's "delete selected" action. Django formats an
    action's description with `description % {"verbose_name": ..., "verbose_name_plural":
    ...}` (ModelAdmin.get_action_choices): this object answers that `%` with the
    phrase that agrees with the model those names are of."""

    def __mod__(self, names: dict) -> str:
        from django.apps import apps

        plural = str(names.get("verbose_name_plural", ""))
        for model in apps.get_models():
            if str(model._meta.verbose_name_plural) == plural:
                return delete_selected_phrase(model._meta)
        return _("Supprimer les %(names)s sélectionnés") % {"names": plural}

    def __str__(self) -> str:
        return _("Supprimer les %(names)s sélectionnés") % {"names": "…"}


def delete_selected(modeladmin, request, queryset):
    """django.contrib.admin's own action; only its description changes."""
    from django.contrib.admin.actions import delete_selected as django_delete_selected

    return django_delete_selected(modeladmin, request, queryset)


delete_selected.allowed_permissions = ("delete",)
delete_selected.short_description = _DeleteSelectedDescription()
