"""Reports and their queue, sanctions, statements of reasons, appeals, notices,
automatic filters and safety signals (docs/moderation.md).

The DSA articles these follow: 16 (notices from anyone), 17 (statement of
reasons), 18 (threat to life), 20 (internal appeals), 22 (trusted flaggers),
23 (repeat offenders and manifestly unfounded notices).

Over 500 lines: the models refer to one another (a statement names its
sanction, an appeal its statement or report) and carry the choices and
deadlines the DSA articles above define; a models/ package is the next step
if it grows.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from moderation.dsa import AutomatedDecision, DsaCategory, SourceType
from rooms import policy_cache

DETAILS_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 2000
# The reported message and the 20 around it (10 before, 10 after).
CONTEXT_MESSAGES_AROUND = 10
# Art. 20: an appeal can be filed for at least six months after the decision.
APPEAL_WINDOW = timedelta(days=183)

CLAUSE_MAX_LENGTH = 8


def clause_choices() -> list[tuple[str, str]]:
    """The citable community rules ("R4 · Pas de harcèlement"), read when used.

    Imported here, not at the top: moderation.rules imports Ground from this module.
    """
    from moderation.rules import clause_choices as rules_clause_choices

    return rules_clause_choices()


def _clause_field() -> models.CharField:
    return models.CharField(
        _("règle enfreinte"),
        max_length=CLAUSE_MAX_LENGTH,
        choices=clause_choices,
        blank=True,
        help_text=_("Le numéro de la règle de la communauté citée par la décision."),
    )


class ReportCategory(models.TextChoices):
    CHILD_SAFETY = "child_safety", _("protection des mineurs")
    THREAT = "threat", _("menace, violence")
    HARASSMENT = "harassment", _("harcèlement")
    HATE = "hate", _("haine, discrimination")
    SEXUAL_CONTENT = "sexual_content", _("contenu sexuel non consenti")
    SCAM = "scam", _("arnaque, escroquerie")
    SPAM = "spam", _("spam")
    ILLEGAL_OTHER = "illegal_other", _("autre contenu illégal")
    OTHER = "other", _("autre")


class Severity(models.IntegerChoices):
    """Lower is more urgent: the queue sorts ascending."""

    URGENT = 1, _("urgent")
    HIGH = 2, _("élevée")
    NORMAL = 3, _("normale")
    LOW = 4, _("basse")


CATEGORY_SEVERITY = {
    ReportCategory.CHILD_SAFETY: Severity.URGENT,
    ReportCategory.THREAT: Severity.URGENT,
    ReportCategory.HARASSMENT: Severity.HIGH,
    ReportCategory.HATE: Severity.HIGH,
    ReportCategory.SEXUAL_CONTENT: Severity.HIGH,
    ReportCategory.SCAM: Severity.NORMAL,
    ReportCategory.ILLEGAL_OTHER: Severity.NORMAL,
    ReportCategory.SPAM: Severity.LOW,
    ReportCategory.OTHER: Severity.LOW,
}

# How long the team has to take a decision, by severity (shown in the queue).
SEVERITY_DEADLINE = {
    Severity.URGENT: timedelta(hours=1),
    Severity.HIGH: timedelta(hours=12),
    Severity.NORMAL: timedelta(hours=24),
    Severity.LOW: timedelta(hours=72),
}


def severity_for(category: str) -> Severity:
    return CATEGORY_SEVERITY.get(category, Severity.LOW)


class ReportSource(models.TextChoices):
    USER = "user", _("membre")
    TRUSTED_FLAGGER = "trusted_flagger", _("signaleur de confiance")
    NOTICE = "notice", _("notification publique")
    AUTOMATIC = "automatic", _("détection automatique")
    ALERT = "alert", _("alerte d'une personne en danger")
    # "Transmettre à l'équipe" of a room's moderator (docs/moderation.md, "Modérateurs de salon").
    ROOM_MODERATOR = "room_moderator", _("transmis par un modérateur de salon")


class EscalationTier(models.TextChoices):
    """Who a report is handed up to from the live console (docs/moderation.md)."""

    SENIOR = "senior", _("modérateur senior")
    COMPLIANCE = "compliance", _("conformité")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("à traiter")
    CLAIMED = "claimed", _("pris en charge")
    ACTIONED = "actioned", _("mesure prise")
    DISMISSED = "dismissed", _("classé sans suite")


OPEN_STATUSES = (ReportStatus.OPEN, ReportStatus.CLAIMED)


class TrustedFlagger(models.Model):
    """An account that reports for an organisation awarded trusted-flagger
    status (DSA Art. 22): its reports come first among equals."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="trusted_flagger",
        verbose_name=_("compte"),
    )
    organisation = models.CharField(_("organisation"), max_length=200)
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("depuis le"), default=timezone.now)

    class Meta:
        verbose_name = _("signaleur de confiance")
        verbose_name_plural = _("signaleurs de confiance")

    def __str__(self) -> str:
        return f"{self.organisation} ({self.user})"


class Notice(models.Model):
    """A notice of illegal content from anyone, signed in or not (DSA Art. 16)."""

    category = models.CharField(
        _("catégorie"), max_length=20, choices=ReportCategory.choices, default="illegal_other"
    )
    explanation = models.TextField(_("explication"), max_length=DETAILS_MAX_LENGTH)
    location = models.URLField(_("adresse exacte du contenu"), max_length=500)
    name = models.CharField(_("nom"), max_length=200, blank=True)
    email = models.EmailField(_("adresse e-mail"), blank=True)
    good_faith = models.BooleanField(_("déclaration de bonne foi"))
    created = models.DateTimeField(_("reçue le"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("accusé de réception le"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification publique")
        verbose_name_plural = _("notifications publiques")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"#{self.id} {self.location}"


class SafetySignalKind(models.TextChoices):
    MASS_DIRECT_MESSAGES = "mass_direct_messages", _("nombreuses conversations privées ouvertes")
    MEETUP_WITH_CONTACT = "meetup_with_contact", _("rendez-vous avec adresse ou téléphone")
    MOVE_TO_OTHER_APP = "move_to_other_app", _("invitation à passer sur une autre application")
    SELF_DECLARED_MINOR = "self_declared_minor", _("se déclare mineur")
    MINOR_CONTACT_REQUEST = (
        "minor_contact_request",
        _("demande d'images, de coordonnées ou de rencontre à un mineur déclaré"),
    )
    SEXTORTION = "sextortion", _("chantage aux images intimes (sextorsion)")


# The child-safety signals: reported as `child_safety` (urgent), sextortion too
# when a minor has declared themself in the room (policy_hooks.py).
CHILD_SAFETY_SIGNALS = (
    SafetySignalKind.SELF_DECLARED_MINOR,
    SafetySignalKind.MINOR_CONTACT_REQUEST,
)


class SafetySignal(models.Model):
    """A pattern that coco's story calls for watching, raised automatically."""

    kind = models.CharField(_("type"), max_length=30, choices=SafetySignalKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="safety_signals",
        verbose_name=_("compte"),
    )
    room = models.ForeignKey(
        "rooms.Room",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("salon"),
    )
    excerpt = models.TextField(_("extrait"), blank=True)
    details = models.JSONField(_("détails"), default=dict, blank=True)
    created = models.DateTimeField(_("relevé le"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("signal de sécurité")
        verbose_name_plural = _("signaux de sécurité")
        ordering = ["-created"]
        # "Was a minor declared in this room lately?", asked on the post path.
        indexes = [
            models.Index(fields=["room", "kind", "created"], name="moderation_signal_room_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.user}"


class Report(models.Model):
    """One report, from a member, a trusted flagger, a public notice, an alert or a filter.

    Reports on the same item are grouped: the first open one is the primary,
    later ones point to it (`duplicate_of`) and raise its severity, its
    reporter count and its trusted-flagger mark. The queue lists primaries.
    `context` is a snapshot of the conversation taken when the report is
    filed, so that it survives the messages' later removal.
    """

    category = models.CharField(_("catégorie"), max_length=20, choices=ReportCategory.choices)
    details = models.TextField(_("précisions"), max_length=DETAILS_MAX_LENGTH, blank=True)
    source = models.CharField(_("origine"), max_length=20, choices=ReportSource.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur du signalement"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports_made",
    )
    target_message = models.ForeignKey(
        "rooms.Message",
        verbose_name=_("message signalé"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    # Which version of the message was reported (rooms.MessageVersion.number; 0:
    # as posted): its author may edit it afterwards, the report keeps pointing
    # at the text that was seen (Message.body_at_version).
    target_message_version = models.PositiveIntegerField(
        _("version signalée"), null=True, blank=True
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte signalé"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports_received",
    )
    room = models.ForeignKey(
        "rooms.Room",
        verbose_name=_("salon"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    context = models.JSONField(_("contexte"), default=list, blank=True)
    # Ids of messages the snapshot quotes whose text the purge emptied while a
    # legal hold kept this report whole: the purge redacts them once no hold
    # covers the report any more (compliance/retention.py, "report_snapshots").
    redactions_due = models.JSONField(
        _("textes effacés à retirer du contexte"), default=list, blank=True
    )
    notice = models.ForeignKey(
        Notice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("notification publique"),
    )
    safety_signal = models.ForeignKey(
        SafetySignal,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("signal de sécurité"),
    )
    severity = models.PositiveSmallIntegerField(
        _("gravité"), choices=Severity.choices, db_index=True
    )
    is_trusted_flagger = models.BooleanField(_("signaleur de confiance"), default=False)
    threat_to_life = models.BooleanField(_("menace pour la vie ou la sécurité"), default=False)
    reporter_count = models.PositiveIntegerField(_("signalements"), default=1)
    # The sum of the group's reporters' precision (moderation/reputation.py): a
    # new reporter counts for the prior's one half, a reliable one for nearly 1.
    reporter_weight = models.FloatField(_("fiabilité des auteurs"), default=0.0)
    # Two reliable reporters and no moderator online: the message was hidden
    # until a moderator decides (moderation/actions/reputation.py).
    hidden_pending_review = models.BooleanField(_("masqué en attente d'examen"), default=False)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("regroupé avec"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("pris en charge par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("pris en charge le"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("décidé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("décidé le"), null=True, blank=True)
    decision = models.TextField(_("décision motivée"), blank=True)
    clause = _clause_field()
    manifestly_unfounded = models.BooleanField(_("manifestement infondé"), default=False)
    created = models.DateTimeField(_("reçu le"), default=timezone.now, db_index=True)
    deadline = models.DateTimeField(_("à traiter avant"))
    # The live console (issue 19): a report a moderator hands up to a senior
    # moderator or to compliance; only they may then claim and decide it.
    escalated_to = models.CharField(
        _("transmis à"), max_length=20, choices=EscalationTier.choices, blank=True
    )
    escalated_at = models.DateTimeField(_("transmis le"), null=True, blank=True)

    class Meta:
        verbose_name = _("signalement")
        verbose_name_plural = _("signalements")
        permissions = [
            ("handle_senior_report", _("Traiter les signalements transmis aux seniors")),
            ("handle_compliance_report", _("Traiter les signalements transmis à la conformité")),
        ]
        # The queue: most severe, child safety first among the urgent, trusted
        # flaggers, the most reliable reporters (their precision summed), the
        # most reported, oldest.
        ordering = [
            "severity",
            models.Case(
                models.When(category="child_safety", then=models.Value(0)),
                default=models.Value(1),
                output_field=models.IntegerField(),
            ).asc(),
            "-is_trusted_flagger",
            "-reporter_weight",
            "-reporter_count",
            "created",
        ]
        indexes = [models.Index(fields=["status", "severity"], name="moderation_report_queue")]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_message__isnull=False)
                | Q(target_user__isnull=False)
                | Q(notice__isnull=False)
                | Q(source="automatic"),
                name="moderation_report_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.get_category_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and timezone.now() > self.deadline

    @property
    def appeal_until(self):
        """A dismissal can be contested by its reporter for six months (Art. 20)."""
        return self.decided_at + APPEAL_WINDOW if self.decided_at else None

    @property
    def cited_rule(self):
        """The numbered rule an actioned report's decision cites (rules.Clause), if any."""
        from moderation.rules import clause

        return clause(self.clause) if self.clause else None

    @property
    def can_appeal(self) -> bool:
        return (
            self.status == ReportStatus.DISMISSED
            and self.reporter_id is not None
            and timezone.now() <= self.appeal_until
            and not self.appeals.exists()
        )


class SanctionKind(models.TextChoices):
    WARN = "warn", _("avertissement")
    MUTE = "mute", _("mise en sourdine")
    KICK = "kick", _("exclusion temporaire")
    BAN = "ban", _("bannissement")


class Ground(models.TextChoices):
    """The terms clause (or law) a decision rests on, named in the statement of reasons."""

    # The numbered rule itself is the decision's `clause` (moderation/rules.py).
    TERMS_MINORS = "terms_minors", _("règles : protection des mineurs")
    TERMS_VIOLENCE = "terms_violence", _("règles : menaces et violence")
    TERMS_HARASSMENT = "terms_harassment", _("règles : harcèlement")
    TERMS_HATE = "terms_hate", _("règles : haine et discrimination")
    TERMS_SEXUAL = "terms_sexual", _("règles : contenus sexuels non consentis")
    TERMS_SCAM = "terms_scam", _("règles : arnaques")
    TERMS_SPAM = "terms_spam", _("règles : spam et flood")
    TERMS_PERSONAL_DATA = "terms_personal_data", _("règles : données personnelles d'autrui")
    TERMS_OTHER = "terms_other", _("règles : autre manquement")
    ILLEGAL = "illegal", _("contenu illégal (loi française ou européenne)")


CATEGORY_GROUND = {
    ReportCategory.CHILD_SAFETY: Ground.TERMS_MINORS,
    ReportCategory.THREAT: Ground.TERMS_VIOLENCE,
    ReportCategory.HARASSMENT: Ground.TERMS_HARASSMENT,
    ReportCategory.HATE: Ground.TERMS_HATE,
    ReportCategory.SEXUAL_CONTENT: Ground.TERMS_SEXUAL,
    ReportCategory.SCAM: Ground.TERMS_SCAM,
    ReportCategory.SPAM: Ground.TERMS_SPAM,
    ReportCategory.ILLEGAL_OTHER: Ground.ILLEGAL,
    ReportCategory.OTHER: Ground.TERMS_OTHER,
}


# The per-process caches of policy state that posts read (rooms/policy_cache.py,
# registered by moderation/policy_hooks.py).
SANCTIONS_CACHE = "moderation.sanctions"
FILTER_RULES_CACHE = "moderation.filter_rules"
# Members' trust levels, computed from their sanctions and reports (moderation/trust.py).
TRUST_LEVELS_CACHE = "moderation.trust"
RAID_MODES_CACHE = "moderation.raid_modes"  # moderation/raid.py


class PolicyCachedQuerySet(models.QuerySet):
    """Rows that every server process keeps a copy of. `save()` and `delete()` send
    the signals that drop the copies (moderation/policy_hooks.py); a bulk write sends
    none, so it drops them itself, all of them since it cannot tell whose rows changed.
    Without this a `QuerySet.update()` lifting sanctions would leave them applying
    until the cache's time-to-live ran out."""

    cache_name = ""
    # Other caches computed from these rows (the trust levels, from sanctions).
    also_drops: tuple[str, ...] = ()

    def _drop_copies(self) -> None:
        for name in (self.cache_name, *self.also_drops):
            policy_cache.changed(name)

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        self._drop_copies()
        return rows

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        self._drop_copies()
        return created

    bulk_create.alters_data = True

    def bulk_update(self, objs, fields, *args, **kwargs):
        rows = super().bulk_update(objs, fields, *args, **kwargs)
        self._drop_copies()
        return rows

    bulk_update.alters_data = True


class FilterRuleQuerySet(PolicyCachedQuerySet):
    cache_name = FILTER_RULES_CACHE


class ActiveSanctionQuerySet(PolicyCachedQuerySet):
    cache_name = SANCTIONS_CACHE
    also_drops = (TRUST_LEVELS_CACHE,)

    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(lifted_at__isnull=True, starts_at__lte=now).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=now)
        )


class Sanction(models.Model):
    """A measure against an account: in one room, or site-wide when `room` is empty.

    No end means permanent. Expiry needs no job: every check compares the
    end with the current time, so a timed sanction lifts itself.
    """

    kind = models.CharField(_("mesure"), max_length=10, choices=SanctionKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte"),
        on_delete=models.CASCADE,
        related_name="sanctions",
    )
    room = models.ForeignKey(
        "rooms.Room",
        verbose_name=_("salon (vide : tout le site)"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    starts_at = models.DateTimeField(_("début"), default=timezone.now)
    ends_at = models.DateTimeField(_("fin (vide : définitive)"), null=True, blank=True)
    reason = models.TextField(_("motif"), max_length=REASON_MAX_LENGTH)
    ground = models.CharField(_("fondement"), max_length=30, choices=Ground.choices)
    clause = _clause_field()
    automated = models.BooleanField(_("décidée automatiquement"), default=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("décidée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    report = models.ForeignKey(
        Report,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sanctions",
        verbose_name=_("signalement"),
    )
    created = models.DateTimeField(_("créée le"), default=timezone.now)
    lifted_at = models.DateTimeField(_("levée le"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("levée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    lift_reason = models.TextField(_("motif de la levée"), blank=True)

    objects = ActiveSanctionQuerySet.as_manager()

    class Meta:
        verbose_name = _("sanction")
        verbose_name_plural = _("sanctions")
        ordering = ["-created"]
        indexes = [models.Index(fields=["user", "kind"], name="moderation_sanction_user")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.user}"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return (
            self.lifted_at is None
            and self.starts_at <= now
            and (self.ends_at is None or self.ends_at > now)
        )


class Measure(models.TextChoices):
    WARN = "warn", _("avertissement")
    MUTE = "mute", _("mise en sourdine")
    KICK = "kick", _("exclusion temporaire")
    BAN = "ban", _("bannissement")
    REMOVAL = "removal", _("suppression d'un message")
    # A held message a moderator refused, a message a filter blocked: never published.
    REJECTION = "rejection", _("refus d'un message retenu")
    BLOCK = "block", _("blocage d'un message par un filtre")
    # DSA Art. 23(2): the member's reports are refused for a while (not an Art. 17 measure).
    REPORTING = "reporting", _("suspension des signalements")


# The measures on a message (the others restrict the account or the service).
CONTENT_MEASURES = (Measure.REMOVAL, Measure.REJECTION, Measure.BLOCK)


def provision_choices() -> list[tuple[str, str]]:
    """The French legal provisions a decision on illegal content cites (read when used)."""
    from moderation.legal_provisions import provision_choices as catalogue_choices

    return catalogue_choices()


class StatementQuerySet(models.QuerySet):
    def disclosed(self):
        """What the addressee may see: not those an authority's order keeps secret
        for now (compliance's orders, docs/compliance.md "Orders")."""
        return self.filter(withheld=False)


class StatementOfReasons(models.Model):
    """What the user is told about a decision against them (DSA Art. 17).

    Written once, when the decision is taken: the measure, its scope and
    duration, the facts, whether automated means were used, the ground and
    how to appeal. It stays as written even if the sanction is later lifted.
    It also carries what the DSA Transparency Database asks (moderation/dsa.py):
    the category, what the decision followed (`source_type`), the legal
    provision of an illegal-content decision, the territorial scope and the
    date of the content; compliance/dsa_export.py writes it in the API's form.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("destinataire"),
        on_delete=models.CASCADE,
        related_name="statements_of_reasons",
    )
    measure = models.CharField(_("mesure"), max_length=10, choices=Measure.choices)
    sanction = models.OneToOneField(
        Sanction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="statement",
    )
    message = models.ForeignKey(
        "rooms.Message",
        verbose_name=_("message supprimé"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    scope = models.CharField(_("portée"), max_length=200)
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"), null=True, blank=True)
    facts = models.TextField(_("faits"))
    automated_detection = models.BooleanField(_("détection automatisée"), default=False)
    automated_decision = models.CharField(
        _("décision automatisée"),
        max_length=10,
        choices=AutomatedDecision.choices,
        default=AutomatedDecision.NOT_AUTOMATED,
    )
    ground = models.CharField(_("fondement"), max_length=30, choices=Ground.choices)
    clause = _clause_field()
    legal_provision = models.CharField(
        _("disposition légale"),
        max_length=20,
        choices=provision_choices,
        blank=True,
        help_text=_("Pour un contenu illégal : l'article de loi sur lequel la décision se fonde."),
    )
    category = models.CharField(
        _("catégorie (règlement sur les services numériques)"),
        max_length=70,
        choices=DsaCategory.choices,
        default=DsaCategory.SCOPE_OF_SERVICE,
    )
    source_type = models.CharField(
        _("origine de la décision"),
        max_length=40,
        choices=SourceType.choices,
        default=SourceType.VOLUNTARY,
    )
    report = models.ForeignKey(
        "Report",
        verbose_name=_("signalement"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="statements",
    )
    # A held message a moderator refused: reversing the refusal on appeal publishes it.
    held_message = models.ForeignKey(
        "HeldMessage",
        verbose_name=_("message retenu refusé"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="statements",
    )
    territorial_scope = models.JSONField(_("portée territoriale"), default=list, blank=True)
    content_date = models.DateTimeField(_("date du contenu"), null=True, blank=True)
    explanation = models.TextField(_("explication du fondement"))
    redress = models.TextField(_("voies de recours"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("décidé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(_("émis le"), default=timezone.now)
    appeal_until = models.DateTimeField(_("recours possible jusqu'au"))
    # A decision taken on an authority's order names it; an order that asks for
    # confidentiality keeps the statement from its addressee (`withheld`: not
    # mailed, not on "Mes décisions", not in their export, not sent to the DSA
    # database) until the secrecy ends, the day recorded in `disclosed_at`.
    order_reference = models.CharField(_("injonction d'une autorité"), max_length=100, blank=True)
    withheld = models.BooleanField(_("tenu secret à la demande de l'autorité"), default=False)
    disclosed_at = models.DateTimeField(_("communiqué au destinataire le"), null=True, blank=True)
    # A ban with a purge (moderation/actions/purges.py): one decision, one
    # statement, naming the messages of the last `purge_hours` hours it hid.
    # Their ids, not a link table: rooms' retention deletes messages on its own
    # write path, which must not reach into moderation's tables.
    purge_hours = models.PositiveIntegerField(_("purge : heures"), null=True, blank=True)
    purged_messages = models.JSONField(_("messages masqués par la purge"), default=list, blank=True)

    objects = StatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("exposé des motifs")
        verbose_name_plural = _("exposés des motifs")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"#{self.id} {self.get_measure_display()} · {self.user}"

    def get_absolute_url(self) -> str:
        return reverse("moderation:decision", kwargs={"pk": self.pk})

    @property
    def can_appeal(self) -> bool:
        return timezone.now() <= self.appeal_until and not self.appeals.exists()

    @property
    def cited_rule(self):
        """The numbered rule the decision cites (rules.Clause), if any."""
        from moderation.rules import clause

        return clause(self.clause) if self.clause else None

    @property
    def cited_provision(self):
        """The legal provision an illegal-content decision cites (legal_provisions), if any."""
        from moderation.legal_provisions import provision

        return provision(self.legal_provision) if self.legal_provision else None

    @property
    def is_fully_automated(self) -> bool:
        return self.automated_decision == AutomatedDecision.FULLY


class AppealStatus(models.TextChoices):
    OPEN = "open", _("en cours d'examen")
    UPHELD = "upheld", _("décision maintenue")
    REVERSED = "reversed", _("décision annulée")


class Appeal(models.Model):
    """A contest of a decision (DSA Art. 20), decided by another moderator: a
    measure against the appellant (its statement of reasons), or the dismissal
    of a report the appellant made."""

    statement = models.ForeignKey(
        StatementOfReasons,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("exposé des motifs"),
    )
    report = models.ForeignKey(
        "Report",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("signalement"),
    )
    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="appeals",
        verbose_name=_("auteur du recours"),
    )
    text = models.TextField(_("arguments"), max_length=DETAILS_MAX_LENGTH)
    status = models.CharField(
        _("statut"), max_length=10, choices=AppealStatus.choices, default=AppealStatus.OPEN
    )
    created = models.DateTimeField(_("déposé le"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("décidé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("décidé le"), null=True, blank=True)
    answer = models.TextField(_("réponse motivée"), blank=True)

    class Meta:
        verbose_name = _("recours")
        verbose_name_plural = _("recours")
        ordering = ["created"]
        constraints = [
            models.CheckConstraint(
                condition=Q(statement__isnull=False, report__isnull=True)
                | Q(statement__isnull=True, report__isnull=False),
                name="moderation_appeal_one_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.id} · {self.statement or self.report}"

    @property
    def decider_id(self) -> int | None:
        """Who took the contested decision: they may not decide the appeal."""
        if self.statement is not None:
            return self.statement.decided_by_id
        return self.report.decided_by_id


class FilterKind(models.TextChoices):
    WORDS = "words", _("liste de mots")
    REGEX = "regex", _("expression régulière")
    LINKS = "links", _("liens")
    CONTACT = "contact", _("coordonnées (téléphone, e-mail, pseudo de messagerie)")
    FLOOD = "flood", _("flood")


class FilterAction(models.TextChoices):
    BLOCK = "block", _("bloquer le message")
    HOLD = "hold", _("retenir pour vérification")
    FLAG = "flag", _("laisser passer et signaler")
    MUTE = "mute", _("laisser passer et mettre en sourdine")


class FilterRule(models.Model):
    """An automatic filter, in one room or site-wide (empty room)."""

    name = models.CharField(_("nom"), max_length=100)
    room = models.ForeignKey(
        "rooms.Room",
        verbose_name=_("salon (vide : tout le site)"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("type"), max_length=10, choices=FilterKind.choices)
    pattern = models.TextField(
        _("motif"),
        blank=True,
        help_text=_(
            "Liste de mots : un par ligne. Expression régulière : une par ligne. "
            "Liens : domaines autorisés, un par ligne (vide : aucun lien). "
            "Coordonnées et flood : vide."
        ),
    )
    flood_count = models.PositiveIntegerField(_("flood : messages"), default=5)
    flood_seconds = models.PositiveIntegerField(_("flood : en secondes"), default=10)
    action = models.CharField(_("action"), max_length=10, choices=FilterAction.choices)
    category = models.CharField(
        _("catégorie des signalements"),
        max_length=20,
        choices=ReportCategory.choices,
        default=ReportCategory.SPAM,
    )
    ground = models.CharField(
        _("fondement"), max_length=30, choices=Ground.choices, default=Ground.TERMS_SPAM
    )
    mute_minutes = models.PositiveIntegerField(_("durée de la sourdine (minutes)"), default=15)
    is_active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(_("créée le"), default=timezone.now)

    objects = FilterRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("filtre automatique")
        verbose_name_plural = _("filtres automatiques")
        ordering = ["room__slug", "name"]

    def __str__(self) -> str:
        return self.name


class HeldStatus(models.TextChoices):
    PENDING = "pending", _("en attente")
    RELEASED = "released", _("publié")
    REJECTED = "rejected", _("refusé")


class HeldMessage(models.Model):
    """A message a filter held for review: not posted until a moderator releases it."""

    room = models.ForeignKey(
        "rooms.Room", on_delete=models.CASCADE, related_name="+", verbose_name=_("salon")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="held_messages",
        verbose_name=_("auteur"),
    )
    body = models.TextField(_("texte"))
    rule = models.ForeignKey(
        FilterRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("filtre"),
    )
    # Held by a raid mode (a recent account's first messages), not by a filter.
    raid_mode = models.ForeignKey(
        "moderation.RaidMode",
        verbose_name=_("mode raid"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=HeldStatus.choices, default=HeldStatus.PENDING
    )
    created = models.DateTimeField(_("retenu le"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("décidé par"),
    )
    decided_at = models.DateTimeField(_("décidé le"), null=True, blank=True)
    message = models.ForeignKey(
        "rooms.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Held by the trust levels (a first message in a busy room), not by a
    # filter: the author's level then (moderation/trust.py).
    trust_level = models.PositiveSmallIntegerField(
        _("retenu au niveau de confiance"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("message retenu")
        verbose_name_plural = _("messages retenus")
        ordering = ["created"]

    def __str__(self) -> str:
        return f"#{self.id} {self.author} @ {self.room}"


class EscalationAuthority(models.TextChoices):
    PHAROS = "pharos", _("PHAROS (internet-signalement.gouv.fr)")
    POLICE = "police", _("Police secours (17)")
    EMERGENCY = "emergency", _("Numéro d'urgence européen (112)")


class EscalationReason(models.TextChoices):
    THREAT_TO_LIFE = "threat_to_life", _("menace pour la vie ou la sécurité d'une personne")
    CHILD_SAFETY = "child_safety", _("protection des mineurs (décision sur un signalement)")


class PharosCategory(models.TextChoices):
    """The kinds of content PHAROS's form (internet-signalement.gouv.fr) offers that
    a chat moderator meets; the one chosen there is recorded with the transmission."""

    MINORS_SEXUAL = "minors_sexual", _("pédocriminalité : atteinte sexuelle aux mineurs, grooming")
    CSAM = "csam", _("images d'abus sexuels sur mineurs (pédopornographie)")
    SEXTORTION = "sextortion", _("chantage, sextorsion")
    THREAT = "threat", _("menaces, violences, incitation")
    TERRORISM = "terrorism", _("terrorisme, apologie")
    HATE = "hate", _("haine, discrimination")
    OTHER = "other", _("autre infraction")


class EscalationItem(models.TextChoices):
    """What a notification to the authorities may carry (the escalation's
    `information`): the moderator ticks what was actually sent."""

    MESSAGE = "message", _("le message signalé (texte, date, référence)")
    CONTEXT = "context", _("le contexte de la conversation (messages autour)")
    SUSPECT_ACCOUNT = "suspect_account", _("le compte du suspect (pseudonyme, identifiant, e-mail)")
    CONNECTIONS = "connections", _("les données de connexion du suspect (IP, port, horodatage)")
    REPORTER = "reporter", _("l'auteur du signalement (pseudonyme, e-mail)")
    VICTIM_ACCOUNT = "victim_account", _("le compte de la personne en danger ou mineure")


class ThreatEscalation(models.Model):
    """A notification to the authorities of a suspected offence threatening
    someone's life or safety (DSA Art. 18): a threat to life, or a child-safety
    case decided by a moderator (PHAROS). Spontaneous, unlike a requisition's
    answer. It holds what the authorities need to act, what was sent, when, by
    whom and the reference the authority gave; pending until either is recorded."""

    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="escalations", verbose_name=_("signalement")
    )
    reason = models.CharField(
        _("motif"),
        max_length=20,
        choices=EscalationReason.choices,
        default=EscalationReason.THREAT_TO_LIFE,
    )
    authority = models.CharField(
        _("autorité"),
        max_length=10,
        choices=EscalationAuthority.choices,
        default=EscalationAuthority.PHAROS,
    )
    information = models.JSONField(_("informations à transmettre"), default=dict)
    created = models.DateTimeField(_("créée le"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("créé par"),
    )
    transmitted_at = models.DateTimeField(_("transmise le"), null=True, blank=True)
    transmitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transmis par"),
    )
    authority_reference = models.CharField(_("référence de l'autorité"), max_length=100, blank=True)
    # What the moderator sent: the authority's category, the items of `information`
    # included, the references of the messages quoted, the text typed in the form.
    transmitted_content = models.JSONField(_("contenu transmis"), default=dict, blank=True)
    # A case the moderator judged not to call for a notification, with why.
    declined_at = models.DateTimeField(_("non transmis : décidé le"), null=True, blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("écarté par"),
    )
    decline_reason = models.TextField(_("motif de non-transmission"), blank=True)

    class Meta:
        verbose_name = _("signalement aux autorités")
        verbose_name_plural = _("signalements aux autorités")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"#{self.id} → {self.get_authority_display()}"

    @property
    def is_pending(self) -> bool:
        return self.transmitted_at is None and self.declined_at is None


class ModerationRecord(models.Model):
    """Per-account counters (DSA Art. 23): upheld violations (repeat
    offenders) and manifestly unfounded reports (their reporting is suspended
    for a while past a threshold)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="moderation_record",
        verbose_name=_("compte"),
    )
    violations = models.PositiveIntegerField(_("manquements constatés"), default=0)
    unfounded_reports = models.PositiveIntegerField(
        _("signalements manifestement infondés"), default=0
    )
    reporting_suspended_until = models.DateTimeField(
        _("signalements suspendus jusqu'au"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("historique de modération")
        verbose_name_plural = _("historiques de modération")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def reporting_suspended(self) -> bool:
        return (
            self.reporting_suspended_until is not None
            and self.reporting_suspended_until > timezone.now()
        )


class MisuseStep(models.TextChoices):
    NOTIFIER_WARNING = "notifier_warning", _("avertissement : signalements manifestement infondés")
    NOTIFIER_SUSPENSION = "notifier_suspension", _("suspension des signalements")
    PROVIDER_WARNING = "provider_warning", _("avertissement : contenus manifestement illicites")
    PROVIDER_SUSPENSION = (
        "provider_suspension",
        _("suspension du compte : contenus manifestement illicites"),
    )


NOTIFIER_STEPS = (MisuseStep.NOTIFIER_WARNING, MisuseStep.NOTIFIER_SUSPENSION)
PROVIDER_STEPS = (MisuseStep.PROVIDER_WARNING, MisuseStep.PROVIDER_SUSPENSION)


class MisuseMeasure(models.Model):
    """One step of the DSA Art. 23 procedure (terms clause T14): a warning, then,
    if the behaviour goes on, a timed suspension. For members who often file
    manifestly unfounded reports (Art. 23(2): reporting suspended) and for those
    who often provide manifestly illegal content (Art. 23(1): account banned
    for a while). `figures` keeps what crossed the threshold, as assessed then."""

    kind = models.CharField(_("étape"), max_length=20, choices=MisuseStep.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte"),
        on_delete=models.CASCADE,
        related_name="misuse_measures",
    )
    created = models.DateTimeField(_("décidée le"), default=timezone.now)
    ends_at = models.DateTimeField(_("fin de la suspension"), null=True, blank=True)
    statement = models.OneToOneField(
        StatementOfReasons,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="misuse_measure",
        verbose_name=_("exposé des motifs"),
    )
    sanction = models.OneToOneField(
        Sanction, on_delete=models.SET_NULL, null=True, blank=True, related_name="misuse_measure"
    )
    figures = models.JSONField(_("chiffres constatés"), default=dict, blank=True)

    class Meta:
        verbose_name = _("mesure au titre de l'article 23")
        verbose_name_plural = _("mesures au titre de l'article 23")
        ordering = ["-created"]
        indexes = [models.Index(fields=["user", "kind", "created"], name="moderation_misuse_user")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.user}"


class RoomModeratorActionKind(models.TextChoices):
    HIDE = "hide", _("message masqué")
    MUTE = "mute", _("mise en sourdine dans le salon")
    KICK = "kick", _("exclusion temporaire du salon")
    ESCALATE = "escalate", _("transmis à l'équipe")


class RoomModeratorAction(models.Model):
    """What a room's owner or moderator did in their room (docs/moderation.md,
    "Modérateurs de salon"): one row per measure, beside the sanction, the
    statement of reasons or the report it made, so that staff can list them
    ("Actions des modérateurs de salon") and reverse them."""

    room = models.ForeignKey(
        "rooms.Room", verbose_name=_("salon"), on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modérateur du salon"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    # The actor's role in the room when they acted (rooms.RoomRole: owner or moderator).
    role = models.CharField(_("rôle"), max_length=10)
    kind = models.CharField(_("mesure"), max_length=10, choices=RoomModeratorActionKind.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("membre visé"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    message = models.ForeignKey(
        "rooms.Message",
        verbose_name=_("message"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sanction = models.OneToOneField(
        Sanction, on_delete=models.SET_NULL, null=True, blank=True, related_name="room_action"
    )
    statement = models.ForeignKey(
        StatementOfReasons,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("exposé des motifs"),
    )
    report = models.ForeignKey(
        Report,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="room_actions",
        verbose_name=_("signalement"),
    )
    reason = models.TextField(_("motif ou note"), max_length=REASON_MAX_LENGTH)
    created = models.DateTimeField(_("prise le"), default=timezone.now, db_index=True)
    reversed_at = models.DateTimeField(_("annulée le"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("annulée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reversal_reason = models.TextField(_("motif de l'annulation"), blank=True)

    class Meta:
        verbose_name = _("action d'un modérateur de salon")
        verbose_name_plural = _("actions des modérateurs de salon")
        ordering = ["-created"]
        # The rate limit counts an actor's last hour.
        indexes = [models.Index(fields=["actor", "created"], name="moderation_roomaction_actor")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.room}"


class ReportThreadMessage(models.Model):
    """A message between the moderator handling a report and its reporter
    (docs/moderation.md, "La console en direct"): the moderator asks a question
    from the report's page, the reporter reads and answers from "Mes décisions"."""

    report = models.ForeignKey(
        Report, verbose_name=_("signalement"), on_delete=models.CASCADE, related_name="thread"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_staff = models.BooleanField(_("de la modération"))
    body = models.TextField(_("texte"), max_length=DETAILS_MAX_LENGTH)
    created = models.DateTimeField(_("écrit le"), default=timezone.now)

    class Meta:
        verbose_name = _("échange avec l'auteur du signalement")
        verbose_name_plural = _("échanges avec les auteurs des signalements")
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"#{self.report_id} · {self.created:%Y-%m-%d %H:%M}"


class ConsolePresence(models.Model):
    """An open staff console socket (/ws/staff/): who covers the queue now.
    Deleted when the socket closes; a row not refreshed for a while belongs to
    a dead process and no longer counts (moderation/console.py)."""

    channel_name = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("console ouverte")
        verbose_name_plural = _("consoles ouvertes")

    def __str__(self) -> str:
        return f"{self.user_id} · {self.channel_name}"


class RaidTrigger(models.TextChoices):
    """What switched a raid mode on: a staff member, or a wave the detector counted."""

    MANUAL = "manual", _("décision d'un membre du personnel")
    SIGNUPS = "signups", _("vague d'inscriptions")
    JOINS = "joins", _("vague d'arrivées dans un salon")
    DIRECT_CONVERSATIONS = (
        "direct_conversations",
        _("vague de nouvelles conversations privées de comptes récents"),
    )


class RaidModeQuerySet(PolicyCachedQuerySet):
    cache_name = RAID_MODES_CACHE

    def active(self, now=None):
        """Not ended by staff and not yet expired: a raid mode ends by itself."""
        now = now or timezone.now()
        return self.filter(ended_at__isnull=True, started_at__lte=now, ends_at__gt=now)


class RaidMode(models.Model):
    """A raid mode, for the whole site (no room) or one room (docs/moderation.md,
    "Mode raid"): while it is on, new accounts are held back. `figures` keeps
    what the wave detector counted when it tripped it by itself."""

    room = models.ForeignKey(
        "rooms.Room",
        verbose_name=_("salon"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Vide : tout le site."),
    )
    trigger = models.CharField(
        _("déclenchement"), max_length=24, choices=RaidTrigger.choices, default=RaidTrigger.MANUAL
    )
    figures = models.JSONField(_("chiffres constatés"), default=dict, blank=True)
    reason = models.TextField(_("motif"), max_length=REASON_MAX_LENGTH, blank=True)
    started_at = models.DateTimeField(_("début"), default=timezone.now)
    ends_at = models.DateTimeField(_("fin prévue"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déclenché par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("arrêté le"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("arrêté par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RaidModeQuerySet.as_manager()

    class Meta:
        verbose_name = _("mode raid")
        verbose_name_plural = _("modes raid")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["ended_at", "ends_at"], name="moderation_raid_active")]

    def __str__(self) -> str:
        scope = self.room.name or self.room.slug if self.room_id else _("tout le site")
        label = _("Mode raid")  # outside the f-string, where makemessages finds it
        return f"{label} · {scope} · {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.ended_at is None and self.started_at <= now < self.ends_at


# --- the case file of an account (docs/moderation.md, "Le dossier d'un compte") ----------------

NOTE_MAX_LENGTH = 5000


class ModeratorNote(models.Model):
    """What a moderator wants the next one to know about an account: staff only,
    shown in the account's case file. The member gets it in their access request
    unless an Art. 23 restriction holds it back (compliance/queries.py)."""

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte"),
        on_delete=models.CASCADE,
        related_name="moderator_notes",
    )
    body = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("écrite par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(_("écrite le"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modifiée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated = models.DateTimeField(_("modifiée le"), default=timezone.now)

    class Meta:
        verbose_name = _("note de modération")
        verbose_name_plural = _("notes de modération")
        ordering = ["-created"]
        indexes = [models.Index(fields=["subject", "created"], name="moderation_note_subject")]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.subject}"


class CaseFile(User):
    """An account seen as its case file: the admin's per-account timeline
    (moderation/admin.py CaseFileAdmin). No table of its own."""

    class Meta:
        proxy = True
        verbose_name = _("dossier d'un compte")
        verbose_name_plural = _("dossiers des comptes")
