from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.pseudonyms import pseudonym_key


class AgeVerificationMethod(models.TextChoices):
    ATTESTATION = "attestation", _("attestation signée par un fournisseur")
    DOCUMENT = "document", _("examen d'un document")
    WALLET = "wallet", _("preuve d'âge du portefeuille (double anonymat)")


class DirectMessagePolicy(models.TextChoices):
    EVERYONE = "everyone", _("tous les adultes vérifiés")
    CONTACTS = "contacts", _("les personnes avec qui je discute déjà")
    NOBODY = "nobody", _("personne")


class AccountManager(UserManager):
    """Django's manager, with the pseudonym history opened for every account it
    creates (create_user, create_superuser: commands, staff accounts, tests).
    Sign-up and the admin's add form save through allauth and the admin, which
    open it themselves (accounts/adapters.py, accounts/admin.py)."""

    def _create_user(self, username, email, password, **extra_fields):
        user = super()._create_user(username, email, password, **extra_fields)
        PseudonymHistory.objects.record(user, at=user.date_joined)
        return user


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
    # The pseudonym's UTS #39 skeleton (accounts.pseudonyms.pseudonym_key), so
    # that a look-alike is found by one indexed lookup at sign-up.
    pseudonym_key = models.CharField(
        _("squelette du pseudonyme"),
        max_length=255,
        db_index=True,
        editable=False,
        default="",
    )

    objects = AccountManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        swappable = "AUTH_USER_MODEL"
        constraints = [
            # "Alice" and "alice" are one pseudonym: impersonation by case is refused.
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique")
        ]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs):
        # A derived column, kept in step with the name on every write path
        # (sign-up, admin, create_staff, the anonymisation of a closed account).
        self.pseudonym_key = pseudonym_key(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "pseudonym_key"}
        super().save(*args, **kwargs)

    @property
    def is_age_verified(self) -> bool:
        return self.age_verified_at is not None


class PseudonymHistoryManager(models.Manager):
    def record(self, user, *, at=None) -> "PseudonymHistory":
        """Keeps the history in step with `user.username`: closes the period of
        the name it held (at `at`) and opens one for its current name. Nothing
        when the name did not change. Called inside the caller's transaction by
        every path that creates or renames an account."""
        with transaction.atomic():
            return self._record(user, at or timezone.now())

    def _record(self, user, at) -> "PseudonymHistory":
        current = self.select_for_update().filter(user=user, valid_to__isnull=True).first()
        if current is not None:
            if current.name == user.username:
                return current
            current.valid_to = max(at, current.valid_from)
            current.save(update_fields=["valid_to"])
        return self.create(
            user=user,
            name=user.username,
            pseudonym_key=pseudonym_key(user.username),
            valid_from=at if current is None else current.valid_to,
        )


class PseudonymHistory(models.Model):
    """Which account held which pseudonym, from when to when (`valid_to` empty:
    still held). A requisition names a pseudonym and a period; this says which
    account that was then, not which account holds the name today
    (compliance.queries.resolve_pseudonym). At closure the closed account's
    rows move to the restricted store (compliance) and a row opens for its
    anonymous name."""

    # Account rows are anonymised, never deleted, by every flow of ours; an
    # administrator's hard delete of an account that never connected (whose
    # connection records would PROTECT it) takes its history along.
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="pseudonym_history", verbose_name=_("compte")
    )
    name = models.CharField(_("pseudonyme"), max_length=150)
    pseudonym_key = models.CharField(_("squelette du pseudonyme"), max_length=255, db_index=True)
    valid_from = models.DateTimeField(_("du"))
    valid_to = models.DateTimeField(_("au"), null=True, blank=True)

    objects = PseudonymHistoryManager()

    class Meta:
        verbose_name = _("pseudonyme porté")
        verbose_name_plural = _("historique des pseudonymes")
        ordering = ["user_id", "valid_from", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(valid_to__isnull=True),
                name="accounts_one_current_pseudonym",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.valid_from:%Y-%m-%d} → {self.valid_to or '…'})"


class ReservedPseudonym(models.Model):
    """The skeleton of a closed account's pseudonym: nobody may take a
    look-alike of it, so that nobody passes for a member who left. Kept at
    least the retention period of account data, then purged by the retention
    purge (compliance/retention.py, "reserved_pseudonyms"); kept while the
    account is under a legal hold."""

    pseudonym_key = models.CharField(_("squelette du pseudonyme"), max_length=255, db_index=True)
    reserved_at = models.DateTimeField(_("réservé le"), default=timezone.now, db_index=True)
    # The closed account (anonymised): a legal hold on it keeps the reservation.
    user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("compte fermé"),
    )

    class Meta:
        verbose_name = _("pseudonyme réservé")
        verbose_name_plural = _("pseudonymes réservés")

    def __str__(self) -> str:
        return self.pseudonym_key


class ConnectionKind(models.TextChoices):
    SIGNUP = "signup", _("création du compte")
    LOGIN = "login", _("connexion")
    LOGOUT = "logout", _("déconnexion")
    WEBSOCKET = "websocket", _("connexion WebSocket")


class ConnectionRecord(models.Model):
    """One connection event kept for the host's legal duty (décret 2021-1362).

    The IP address and the source port together identify a subscriber behind
    carrier-grade NAT, which is why the port is kept too.
    """

    # PROTECT: these records outlive an account's closure for their legal
    # retention period; the compliance app purges them first, on schedule.
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="connection_records", verbose_name=_("compte")
    )
    kind = models.CharField(_("type"), max_length=10, choices=ConnectionKind.choices)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    port = models.PositiveIntegerField(_("port source"), null=True, blank=True)
    created = models.DateTimeField(_("date"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("enregistrement de connexion")
        verbose_name_plural = _("enregistrements de connexion")
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "-created"], name="accounts_conn_user_created")]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} {self.ip_address}:{self.port} {self.created:%Y-%m-%d %H:%M}"
        )


class AgeVerificationOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("acceptée")
    REFUSED = "refused", _("refusée")
    SUBMITTED = "submitted", _("document déposé")


class AgeVerificationRefusal(models.TextChoices):
    """Why an age verification was refused: one code, one message to the user."""

    MALFORMED = "malformed", _("attestation illisible")
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm", _("algorithme de signature non accepté")
    UNKNOWN_KEY = "unknown_key", _("clé de signature inconnue")
    BAD_SIGNATURE = "bad_signature", _("signature invalide")
    UNTRUSTED_ISSUER = "untrusted_issuer", _("émetteur non reconnu")
    WRONG_AUDIENCE = "wrong_audience", _("attestation destinée à un autre site")
    EXPIRED = "expired", _("attestation expirée")
    ISSUED_IN_FUTURE = "issued_in_future", _("attestation datée du futur")
    UNKNOWN_NONCE = "unknown_nonce", _("demande inconnue")
    FOREIGN_NONCE = "foreign_nonce", _("demande faite depuis une autre session")
    REPLAYED_NONCE = "replayed_nonce", _("attestation déjà utilisée")
    NONCE_EXPIRED = "nonce_expired", _("demande expirée")
    NOT_ADULT = "not_adult", _("majorité non attestée")
    PROVIDER_ERROR = "provider_error", _("le fournisseur a signalé une erreur")
    DOCUMENT_REJECTED = "document_rejected", _("document refusé")
    DOCUMENT_EXPIRED = "document_expired", _("document non examiné à temps")
    # The wallet's proof of age (accounts.wallet.verifier).
    UNTRUSTED_CERTIFICATE = "untrusted_certificate", _("émetteur hors de la liste de confiance")
    CERTIFICATE_EXPIRED = "certificate_expired", _("certificat de l'émetteur expiré")
    PROOF_EXPIRED = "proof_expired", _("preuve d'âge expirée")
    PROOF_NOT_YET_VALID = "proof_not_yet_valid", _("preuve d'âge pas encore valide")
    WRONG_DOCTYPE = "wrong_doctype", _("ce n'est pas une preuve d'âge")
    DIGEST_MISMATCH = "digest_mismatch", _("donnée modifiée après signature")
    EXTRA_ELEMENTS = "extra_elements", _("données non demandées divulguées")
    DEVICE_SIGNATURE_MISSING = "device_signature_missing", _("signature du portefeuille absente")
    DEVICE_SIGNATURE_INVALID = (
        "device_signature_invalid",
        _("réponse préparée pour une autre demande"),
    )


class AgeVerificationAttempt(models.Model):
    """The outcome of one verification attempt: never any identity data."""

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="age_verification_attempts",
        verbose_name=_("compte"),
    )
    method = models.CharField(_("méthode"), max_length=20, choices=AgeVerificationMethod.choices)
    outcome = models.CharField(_("résultat"), max_length=10, choices=AgeVerificationOutcome.choices)
    reason = models.CharField(
        _("motif du refus"), max_length=30, choices=AgeVerificationRefusal.choices, blank=True
    )
    issuer = models.CharField(_("émetteur"), max_length=200, blank=True)
    created = models.DateTimeField(_("date"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("tentative de vérification de l'âge")
        verbose_name_plural = _("tentatives de vérification de l'âge")
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.get_method_display()} {self.get_outcome_display()}"


class AttestationNonce(models.Model):
    """A single-use challenge sent to the attestation provider for one user."""

    nonce = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="attestation_nonces")
    issued_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("défi d'attestation")
        verbose_name_plural = _("défis d'attestation")

    def __str__(self) -> str:
        return f"{self.user} {self.issued_at:%Y-%m-%d %H:%M}"


class WalletRequest(models.Model):
    """One OpenID4VP request to the user's wallet: `state` finds it when the
    wallet answers (without the user's cookie), `nonce` binds the answer to it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="wallet_requests")
    state = models.CharField(max_length=64, unique=True)
    nonce = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=AgeVerificationOutcome.choices, blank=True)
    reason = models.CharField(max_length=30, choices=AgeVerificationRefusal.choices, blank=True)

    class Meta:
        verbose_name = _("demande au portefeuille")
        verbose_name_plural = _("demandes au portefeuille")

    def __str__(self) -> str:
        return f"{self.user} {self.issued_at:%Y-%m-%d %H:%M}"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("en attente d'examen")
    APPROVED = "approved", _("accepté")
    REJECTED = "rejected", _("refusé")
    EXPIRED = "expired", _("expiré sans examen")


class IdentityDocument(models.Model):
    """An identity document sent for review; the file goes, the decision stays."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="identity_documents", verbose_name=_("compte")
    )
    # A random name under PRIVATE_MEDIA_ROOT, emptied once the file is deleted.
    stored_name = models.CharField(_("fichier"), max_length=100, blank=True)
    content_type = models.CharField(_("type de fichier"), max_length=50)
    size = models.PositiveIntegerField(_("taille (octets)"))
    status = models.CharField(
        _("statut"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING
    )
    uploaded_at = models.DateTimeField(_("déposé le"), default=timezone.now)
    decided_at = models.DateTimeField(_("décidé le"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("décidé par"),
    )
    rejection_reason = models.TextField(_("motif du refus"), blank=True)

    class Meta:
        verbose_name = _("document d'identité")
        verbose_name_plural = _("documents d'identité")
        ordering = ["uploaded_at", "id"]
        permissions = [("review_identitydocument", _("Peut examiner les documents d'identité"))]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="accounts_one_pending_document_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_status_display()})"

    @property
    def has_file(self) -> bool:
        return bool(self.stored_name)


class AccountDeletionRequest(models.Model):
    """A member's request to close the account; the compliance app completes it."""

    user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="deletion_requests",
        verbose_name=_("compte"),
    )
    requested_at = models.DateTimeField(_("demandée le"), default=timezone.now)
    completed_at = models.DateTimeField(_("traitée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("demande de suppression de compte")
        verbose_name_plural = _("demandes de suppression de compte")
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"{self.user} {self.requested_at:%Y-%m-%d}"
