from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgeVerificationMethod(models.TextChoices):
    ATTESTATION = "attestation", _("attestation signée (double anonymat)")
    DOCUMENT = "document", _("examen d'un document")


class DirectMessagePolicy(models.TextChoices):
    EVERYONE = "everyone", _("tous les adultes vérifiés")
    CONTACTS = "contacts", _("les personnes avec qui je discute déjà")
    NOBODY = "nobody", _("personne")


class User(AbstractUser):
    """A Chatsite account: pseudonymous to other users, accountable to the platform.

    `username` is the public pseudonym; the e-mail address and the date of birth
    are never shown to other users. Only the outcome of age verification is kept
    (when and how), never the identity data behind it.
    """

    date_of_birth = models.DateField(_("date de naissance"), null=True, blank=True)
    age_verified_at = models.DateTimeField(_("âge vérifié le"), null=True, blank=True)
    age_verification_method = models.CharField(
        _("méthode de vérification de l'âge"),
        max_length=20,
        choices=AgeVerificationMethod.choices,
        blank=True,
    )
    direct_messages_from = models.CharField(
        _("messages privés acceptés de"),
        max_length=10,
        choices=DirectMessagePolicy.choices,
        default=DirectMessagePolicy.EVERYONE,
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.username

    @property
    def is_age_verified(self) -> bool:
        return self.age_verified_at is not None
