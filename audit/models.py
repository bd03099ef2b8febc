from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.events import event_choices


class AuditEntry(models.Model):
    """One link of the append-only, hash-chained audit trail.

    `hash` is SHA-256 over `prev_hash` and the canonical form of the sealed
    fields (audit/chain.py). The personal columns (actor label, IP address,
    personal details) are outside that form: they are sealed only through
    `personal_digest`, a salted digest, so that erasing a person clears them
    and the salt without rewriting the chain. The database refuses every other
    UPDATE, and every DELETE (audit/guards.py).

    The actor is a pseudonymous id (the account's primary key), never a
    foreign key: deleting an account must neither cascade nor rewrite.
    """

    seq = models.PositiveBigIntegerField(_("n°"), primary_key=True)
    created = models.DateTimeField(_("date"), db_index=True)
    actor_id = models.BigIntegerField(_("auteur (id)"), null=True, blank=True, db_index=True)
    event = models.PositiveIntegerField(_("événement"), choices=event_choices, db_index=True)
    target_type = models.CharField(_("type de cible"), max_length=100, blank=True)
    target_id = models.CharField(_("id de la cible"), max_length=64, blank=True)
    reason = models.TextField(_("motif"), blank=True)
    details = models.JSONField(_("détails"), default=dict)
    # Personal columns: sealed through personal_digest only, erasable.
    actor_label = models.CharField(_("auteur"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    personal_details = models.JSONField(_("détails personnels"), null=True, blank=True)
    personal_salt = models.CharField(_("sel"), max_length=32, blank=True)
    personal_digest = models.CharField(_("empreinte des données personnelles"), max_length=64)
    prev_hash = models.CharField(_("empreinte précédente"), max_length=64)
    hash = models.CharField(_("empreinte"), max_length=64)

    class Meta:
        verbose_name = _("entrée du journal d'audit")
        verbose_name_plural = _("entrées du journal d'audit")
        ordering = ["-seq"]
        get_latest_by = "seq"
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_event_display()}"

    @property
    def is_erased(self) -> bool:
        """Its personal columns were cleared by an erasure (the salt goes with them)."""
        return not self.personal_salt


class ChainHead(models.Model):
    """The last link of the chain: a single row, locked by every writer.

    Writers serialise on this row (an UPDATE takes its lock on PostgreSQL and
    the write lock on SQLite), which keeps the chain linear. It is a working
    copy of the last entry's sequence and hash, not evidence: audit_verify
    checks it against the entries, and signed checkpoints are the evidence.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("tête de chaîne")
        verbose_name_plural = _("têtes de chaîne")

    def __str__(self) -> str:
        return f"{self.seq} {self.hash[:12]}"


class LookedAtPerson(models.Model):
    """Who a staff look showed: one row per (look, person), for reviewing looks by person.

    An index beside the trail, written in the look's own transaction: the entry
    (`seq`) seals the same ids in its details, so this table adds no evidence,
    only a way to find "every look at this account" without scanning JSON.
    """

    seq = models.PositiveBigIntegerField(_("n° de l'entrée"), db_index=True)
    person_id = models.BigIntegerField(_("personne consultée (id)"), db_index=True)

    class Meta:
        verbose_name = _("personne consultée")
        verbose_name_plural = _("personnes consultées")
        constraints = [
            models.UniqueConstraint(fields=["seq", "person_id"], name="audit_look_person_once")
        ]

    def __str__(self) -> str:
        return f"#{self.seq} → {self.person_id}"


class StaffLook(AuditEntry):
    """The trail's staff looks at personal data, for compliance's review (audit/admin.py)."""

    class Meta:
        proxy = True
        verbose_name = _("consultation du personnel")
        verbose_name_plural = _("consultations du personnel")
