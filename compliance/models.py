"""Authorities' orders (judicial requisitions, preservation, removal and EU
production/preservation orders), legal holds and the restricted store
(docs/compliance.md).

The retention periods themselves are settings, not rows (compliance/retention.py):
they change with the law, by deployment, never by a click in the admin.
"""

import json
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

REFERENCE_MAX_LENGTH = 100
REASON_MAX_LENGTH = 2000
# A deadline this close (or past) is flagged in the admin.
DEADLINE_WARNING_DAYS = 3


class LegalBasis(models.TextChoices):
    CPP_60_1 = "cpp_60_1", _("Code de procédure pénale, art. 60-1 (enquête de flagrance)")
    CPP_77_1_1 = "cpp_77_1_1", _("Code de procédure pénale, art. 77-1-1 (enquête préliminaire)")
    CPP_99_3 = "cpp_99_3", _("Code de procédure pénale, art. 99-3 (instruction)")
    OTHER = "other", _("autre fondement")


class LegalRequestStatus(models.TextChoices):
    RECEIVED = "received", _("reçue")
    VERIFIED = "verified", _("vérifiée")
    ON_HOLD = "on_hold", _("en attente")
    EXPORTED = "exported", _("exportée")
    # A removal or preservation order carried out, the authority not yet told.
    EFFECTED = "effected", _("exécutée")
    ANSWERED = "answered", _("répondue")
    REFUSED = "refused", _("refusée")


class OrderKind(models.TextChoices):
    """What an authority orders; each kind has its deadline (compliance/orders.py)."""

    DATA_REQUEST = "data_request", _("réquisition de données (CPP, DSA art. 10)")
    PRESERVATION = "preservation", _("réquisition de conservation (CPP art. 60-2)")
    REMOVAL_ART9 = "removal_art9", _("injonction d'agir contre un contenu illicite (DSA art. 9)")
    REMOVAL_TERRORIST = (
        "removal_terrorist",
        _("injonction de retrait d'un contenu terroriste (règlement (UE) 2021/784)"),
    )
    REMOVAL_LCEN = "removal_lcen", _("demande administrative de retrait (LCEN art. 6-1)")
    EU_PRODUCTION = (
        "eu_production",
        _("injonction européenne de production (règlement (UE) 2023/1543)"),
    )
    EU_PRESERVATION = (
        "eu_preservation",
        _("injonction européenne de conservation (règlement (UE) 2023/1543)"),
    )


REMOVAL_KINDS = (OrderKind.REMOVAL_ART9, OrderKind.REMOVAL_TERRORIST, OrderKind.REMOVAL_LCEN)
PRESERVATION_KINDS = (OrderKind.PRESERVATION, OrderKind.EU_PRESERVATION)
# Answered with a data package (export, second officer's approval).
PRODUCTION_KINDS = (OrderKind.DATA_REQUEST, OrderKind.EU_PRODUCTION)


CLOSED_STATUSES = (LegalRequestStatus.ANSWERED, LegalRequestStatus.REFUSED)


class DataCategory(models.TextChoices):
    """What a requisition may ask for; each is one file of the export package."""

    IDENTITY = "identity", _("données d'identification du compte")
    CONNECTIONS = "connections", _("données de connexion (IP, port, horodatage)")
    MESSAGES = "messages", _("messages")
    MODERATION = "moderation", _("historique de modération")


class LegalRequest(models.Model):
    """An authority's order, from receipt to the answer that says what was done.

    One case model for every kind (`kind`): data requisitions and EU production
    orders answered with a package, preservation orders carried out by legal
    holds, removal orders carried out by moderation's removal. The deadline is
    computed from the receipt by kind (compliance/orders.py); `taken_effect_at`
    is when the order took effect, `answered_at` when the authority was told.
    """

    reference = models.CharField(_("référence"), max_length=REFERENCE_MAX_LENGTH, unique=True)
    kind = models.CharField(
        _("nature"), max_length=20, choices=OrderKind.choices, default=OrderKind.DATA_REQUEST
    )
    # EU production order in an emergency (Reg. 2023/1543, art. 10(4)): 8 hours.
    emergency = models.BooleanField(_("urgence"), default=False)
    authority = models.CharField(_("autorité requérante"), max_length=200)
    legal_basis = models.CharField(_("fondement"), max_length=20, choices=LegalBasis.choices)
    legal_basis_detail = models.CharField(_("précision du fondement"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("reçue le"))
    deadline = models.DateTimeField(_("à répondre avant"))
    accounts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("comptes visés"), blank=True, related_name="+"
    )
    rooms = models.ManyToManyField(
        "rooms.Room", verbose_name=_("salons visés"), blank=True, related_name="+"
    )
    period_start = models.DateTimeField(_("période : du"))
    period_end = models.DateTimeField(_("période : au"))
    data_categories = models.JSONField(_("catégories de données"), default=list)
    assigned_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent chargé"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("statut"),
        max_length=10,
        choices=LegalRequestStatus.choices,
        default=LegalRequestStatus.RECEIVED,
    )
    status_reason = models.TextField(_("motif (refus, attente)"), blank=True)
    created = models.DateTimeField(_("enregistrée le"), default=timezone.now)
    exported_at = models.DateTimeField(_("exportée le"), null=True, blank=True)
    package_name = models.CharField(_("paquet exporté"), max_length=200, blank=True)
    package_sha256 = models.CharField(_("SHA-256 du paquet"), max_length=64, blank=True)
    answered_at = models.DateTimeField(_("répondue le"), null=True, blank=True)
    # The authority was told the order arrived (Art. 9(1): "without undue delay").
    acknowledged_at = models.DateTimeField(_("réception confirmée le"), null=True, blank=True)
    # The order took effect: content removed, data preserved, package produced.
    taken_effect_at = models.DateTimeField(_("exécutée le"), null=True, blank=True)
    # What was done and when, as told to the authority (DSA Art. 9(1)).
    effect = models.JSONField(_("suite donnée"), default=dict, blank=True)
    # The messages a removal order names, by id: ids, not a link, so that the
    # retention purge of a message row (rooms' own) never edits the order.
    content_ids = models.JSONField(_("messages visés (numéros)"), default=list, blank=True)
    legal_provision = models.CharField(_("disposition légale (retrait)"), max_length=20, blank=True)
    # A national preservation order's own duration (CPP art. 60-2: one year at most).
    preserve_days = models.PositiveIntegerField(
        _("durée de conservation (jours)"), null=True, blank=True
    )
    # The authority asked that the member not be told (DSA Art. 10(5)...).
    secret = models.BooleanField(_("confidentialité demandée"), default=False)
    secrecy_reason = models.CharField(_("motif de la confidentialité"), max_length=500, blank=True)
    secrecy_until = models.DateTimeField(_("confidentialité jusqu'au"), null=True, blank=True)
    secrecy_lifted_at = models.DateTimeField(_("confidentialité levée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("réquisition judiciaire")
        verbose_name_plural = _("réquisitions judiciaires")
        ordering = ["deadline", "id"]
        permissions = [
            ("approve_legalrequest", _("Peut approuver l'export d'une réquisition")),
            ("export_legalrequest", _("Peut exporter les données d'une réquisition")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="compliance_legalrequest_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def is_done(self) -> bool:
        """The order took effect or was closed: its deadline no longer runs."""
        return self.is_closed or self.taken_effect_at is not None

    @property
    def deadline_is_near(self) -> bool:
        """Still to act on, and due within its kind's warning window or already late."""
        from compliance.orders import warning_window

        return not self.is_done and self.deadline - timezone.now() <= warning_window(self.kind)

    @property
    def is_overdue(self) -> bool:
        return not self.is_done and self.deadline < timezone.now()

    @property
    def time_left(self) -> timedelta:
        return self.deadline - timezone.now()

    def content_messages(self):
        from rooms.models import Message

        return Message.objects.filter(pk__in=self.content_ids).order_by("pk")

    @property
    def is_secret(self) -> bool:
        """The member may not be told yet."""
        return self.secret and self.secrecy_lifted_at is None


class SubjectSource(models.TextChoices):
    LIVE = "live", _("historique des pseudonymes")
    RESTRICTED = "restricted", _("données conservées d'un compte fermé")
    CURRENT = "current", _("pseudonyme actuel (aucun historique)")


class LegalRequestSubject(models.Model):
    """How a pseudonym named by a requisition was resolved: the account that held
    it during the requested period, and from where we know it. Several rows for
    one name: several accounts held it (or a look-alike) during the period, and
    the officer was warned (compliance.queries.resolve_pseudonym)."""

    request = models.ForeignKey(LegalRequest, on_delete=models.CASCADE, related_name="subjects")
    named = models.CharField(_("pseudonyme désigné"), max_length=150)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    held_name = models.CharField(_("pseudonyme porté"), max_length=150)
    held_from = models.DateTimeField(_("porté du"))
    held_to = models.DateTimeField(_("porté jusqu'au"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=SubjectSource.choices)
    ambiguous = models.BooleanField(_("plusieurs comptes correspondent"), default=False)

    class Meta:
        verbose_name = _("personne visée par son pseudonyme")
        verbose_name_plural = _("personnes visées par leur pseudonyme")
        ordering = ["request_id", "named", "held_from", "id"]

    def __str__(self) -> str:
        return f"{self.named} → #{self.user_id}"


class LegalExportApproval(models.Model):
    """A second compliance officer's agreement that the package may go out."""

    request = models.ForeignKey(LegalRequest, on_delete=models.CASCADE, related_name="approvals")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approuvé le"), default=timezone.now)

    class Meta:
        verbose_name = _("approbation d'export")
        verbose_name_plural = _("approbations d'export")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "officer"], name="compliance_approval_once_per_officer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} · {self.officer}"


class LegalHoldQuerySet(models.QuerySet):
    def active(self, now=None):
        """Not released, and not past the end an order set (an EU preservation
        order's 60 days): such a hold stops protecting at once, even before
        `process_orders` records its end."""
        now = now or timezone.now()
        return self.filter(released_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class LegalHold(models.Model):
    """Suspends every retention purge of one account or one room while it lasts."""

    request = models.ForeignKey(
        LegalRequest, on_delete=models.PROTECT, related_name="holds", verbose_name=_("réquisition")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds",
    )
    room = models.ForeignKey(
        "rooms.Room",
        verbose_name=_("salon"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds",
    )
    placed_at = models.DateTimeField(_("posée le"), default=timezone.now)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("posée par"),
    )
    released_at = models.DateTimeField(_("levée le"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("levée par"),
    )
    release_reason = models.TextField(_("motif de la levée"), blank=True)
    # The end a preservation order sets; none: until released.
    expires_at = models.DateTimeField(_("jusqu'au"), null=True, blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("conservation légale")
        verbose_name_plural = _("conservations légales")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, room__isnull=True)
                | Q(user__isnull=True, room__isnull=False),
                name="compliance_hold_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} · {self.user or self.room}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


class RestrictedCategory(models.TextChoices):
    IDENTITY = "identity", _("identité (e-mail, date de naissance)")
    ACCOUNT = "account", _("compte (pseudonyme, dates, vérification de l'âge)")
    CONNECTION = "connection", _("connexion (IP, port, horodatage)")
    # One row per pseudonym the closed account held, with its period: a
    # requisition naming that pseudonym for that period finds the account.
    PSEUDONYM = "pseudonym", _("pseudonyme porté (nom, du, au)")


class RestrictedRecord(models.Model):
    """What the law makes us keep after an account is deleted, until `retain_until`.

    Readable by compliance staff only (the Compliance group's permission, behind
    the stated-reason gate). `user` is the anonymised account row, kept because
    its messages still point to it: it links this record to the requisitions
    that name the account, never to a public profile.
    """

    category = models.CharField(_("catégorie"), max_length=10, choices=RestrictedCategory.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte (anonymisé)"),
        on_delete=models.PROTECT,
        related_name="restricted_records",
    )
    data = models.JSONField(_("données"), default=dict)
    occurred_at = models.DateTimeField(_("date du fait"))
    retain_until = models.DateTimeField(_("conservé jusqu'au"), db_index=True)
    created = models.DateTimeField(_("versé le"), default=timezone.now)

    class Meta:
        verbose_name = _("donnée conservée à titre légal")
        verbose_name_plural = _("données conservées à titre légal")
        ordering = ["user_id", "category", "occurred_at", "id"]
        indexes = [
            models.Index(fields=["user", "category"], name="compliance_restricted_user"),
        ]

    def __str__(self) -> str:
        return f"#{self.user_id} {self.get_category_display()} {self.occurred_at:%Y-%m-%d}"


class PublishedTransparencyReport(models.Model):
    """A transparency report made public at /transparency/ (DSA Art. 15 and 24).

    A compliance officer publishes a closed period (compliance/actions/transparency.py);
    its figures are frozen then, so that a later purge or a reversed decision never
    changes what was published. The period is whole days, both ends included.
    """

    period_start = models.DateField(_("du"))
    period_end = models.DateField(_("au"))
    # JSON as text, not a JSONField: PostgreSQL's jsonb reorders keys, and the
    # published HTML and CSV follow the template's order as built.
    figures_json = models.TextField(_("chiffres (JSON)"))
    published_at = models.DateTimeField(_("publié le"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("publié par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("rapport de transparence publié")
        verbose_name_plural = _("rapports de transparence publiés")
        ordering = ["-period_start", "-period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["period_start", "period_end"], name="compliance_published_report_period"
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="compliance_published_report_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_start} / {self.period_end}"

    def get_absolute_url(self) -> str:
        return reverse("transparency_report", kwargs={"period": self.slug})

    @property
    def slug(self) -> str:
        return f"{self.period_start.isoformat()}_{self.period_end.isoformat()}"

    @property
    def figures(self) -> dict:
        return json.loads(self.figures_json)

    def get_csv_url(self) -> str:
        return reverse("transparency_report_csv", kwargs={"period": self.slug})
