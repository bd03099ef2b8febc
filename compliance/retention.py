"""The retention policy: how long each category of data is kept (docs/compliance.md).

Read from `settings.COMPLIANCE_RETENTION` (a dict of day counts) at each use,
never at import time; missing keys take the defaults below, which follow
décret n° 2021-1362 and GDPR minimisation. `expired` names, for each step of
the purge, the rows whose period is over; the purge itself (writes, in
batches) is `compliance.actions.do_purge_expired`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

from accounts import documents
from accounts.models import (
    AccountDeletionRequest,
    AttestationNonce,
    ConnectionRecord,
    DocumentStatus,
    IdentityDocument,
    ReservedPseudonym,
)
from compliance.app_settings import app_settings
from compliance.models import CLOSED_STATUSES, LegalHold, LegalRequest, RestrictedRecord
from moderation.models import (
    OPEN_STATUSES,
    Appeal,
    AppealStatus,
    HeldMessage,
    HeldStatus,
    MisuseMeasure,
    ModeratorNote,
    Notice,
    Report,
    RoomModeratorAction,
    SafetySignal,
    Sanction,
    SanctionKind,
    StatementOfReasons,
    ThreatEscalation,
)
from moderation.queries import held_back_snapshots, misuse_measures_lapsed, report_concerning
from rooms.models import ContentOperation, Message, PresenceInterval
from rooms.presence_history import interval_end

DEFAULT_RETENTION_DAYS = {
    # Who created, changed or deleted which message, from which IP and port, when:
    # one year from the operation (décret 2021-1362).
    "content_operations": 365,
    # Who had which room open, from when to when (rooms.models.PresenceInterval):
    # one year from the interval's end, to answer who could have seen a message
    # (a report, a requisition), as long as the content operations it goes with.
    "presence_intervals": 365,
    # Pseudonyms held, password verifier, dates, age-verification outcome: one
    # year after closure (décret 2021-1362, art. 1 II). A closed account's
    # pseudonym stays reserved as long.
    "account_data": 365,
    # E-mail address, date of birth: five years after closure (civil identity).
    "identity_data": 5 * 365,
    # A deleted message's text: hidden at once, purged after this grace period
    # (long enough for a moderation appeal or a fresh requisition to catch it).
    "deleted_message_grace": 30,
    # An identity document sent for age review and still not reviewed: its
    # file is deleted (minimisation; the member may send another or use the
    # wallet). Legal holds suspend it like every other purge.
    documents.RETENTION_KEY: documents.PENDING_REVIEW_DAYS,
    # Moderation's records (reports with their context snapshots, statements of
    # reasons, appeals, notices, safety signals, held messages, threat
    # escalations): one year after the case closes, as long as the account data
    # (DSA Art. 16 to 20 and 24 record-keeping: redress runs six months, the
    # yearly transparency report is published and frozen by then).
    "moderation_records": 365,
    # A sanction (warning, mute, kick, ban, with its reason): one year after it
    # ends (lifted, expired; a warning ends when given; a permanent ban never
    # does). The six-month complaint window (DSA Art. 20) and an out-of-court
    # settlement started in it (Art. 21) fit in it, as does the yearly
    # transparency report that counts it (Art. 15, 24). A member who goes to
    # court later is answered under a legal hold, not by keeping every sanction.
    "sanctions": 365,
    # A DSA Art. 23 step (warning, suspension of reporting or of the account,
    # with the figures that crossed the threshold): one year after it lapses
    # (a warning when its window is over, a suspension when both its end and
    # its window are past), the window being the one the procedure counts over.
    "misuse_measures": 365,
    # A moderator's note about an account (its case file): one year after it was
    # last written, as long as the moderation records it comments on; kept while
    # a report against the account or an appeal of theirs is still open, the case
    # it belongs to (docs/moderation.md, "Le dossier d'un compte").
    "moderator_notes": 365,
    # A requisition's export package (a copy of what was handed over): deleted
    # this long after the request is answered or refused, holds excepted; the
    # package's SHA-256 and the audit trail still prove what was sent.
    "requisition_packages": 90,
    # A database backup (make backup, docs/operations.md): every category above as
    # it was that day, purged rows included. Deleted this long after it was made
    # (rotate_backups), unless a legal hold needs it: long enough to recover from
    # an incident noticed late, short enough that a purge or an erasure reaches
    # the backups within a month.
    "backups": 30,
}


# Where a model's rows are kept for a reason other than a period of the policy.
# `RETENTION_CLASSES` below maps every model of our apps that may hold personal data
# to one of these or to a key of DEFAULT_RETENTION_DAYS; tests/compliance/
# test_retention_docs.py fails on a model left out, and scripts/retention_table.py
# writes the table of docs/compliance.md from it.
OTHER_RULES = (
    # Kept while the account is open; its closure forgets or ends it, anonymises
    # it (the account's row) or moves it to the restricted store (each app's
    # forget action, docs/compliance.md 3.).
    "account",
    # As long as the room and its conversation, under the anonymised account after
    # a closure; a deleted message's text goes after `deleted_message_grace`, its
    # row after `content_operations`.
    "conversation",
    # Seconds: deleted when the socket closes or stops answering.
    "ephemeral",
    # The restricted store: each row's `retain_until`, set from `account_data`,
    # `identity_data` or `content_operations` at the account's closure.
    "restricted",
    # The audit trail's own rule: sealed fields kept for good, personal columns
    # erased with the account data (docs/audit.md, "Erasure").
    "audit",
    # The register of requisitions: what was asked, by whom, on which basis, and
    # the hash of what was handed over (accountability, GDPR Art. 5(2)).
    "register",
    # Proof that an erasure request was honoured: the anonymised account's id and dates.
    "proof_of_erasure",
    # Published for good (DSA Art. 15 and 24): figures, and who published them.
    "published",
    # Nothing about a person.
    "no_personal_data",
)

RETENTION_CLASSES = {
    "accounts.user": "account",
    "accounts.pseudonymhistory": "account",
    "accounts.reservedpseudonym": "account_data",
    "accounts.connectionrecord": "content_operations",
    "accounts.ageverificationattempt": "account",
    "accounts.attestationnonce": "content_operations",
    "accounts.walletrequest": "account",
    "accounts.identitydocument": "pending_identity_documents",
    "accounts.accountdeletionrequest": "proof_of_erasure",
    "rooms.room": "conversation",
    "rooms.roommembership": "account",
    "rooms.roominvitation": "account",
    "rooms.message": "conversation",
    "rooms.messageversion": "conversation",
    "rooms.contentoperation": "content_operations",
    "rooms.reaction": "conversation",
    "rooms.mention": "account",
    "rooms.block": "account",
    "rooms.ignore": "account",
    "rooms.contactrequest": "conversation",
    "rooms.roompresence": "ephemeral",
    "rooms.presenceinterval": "presence_intervals",
    "rooms.notification": "account",
    "moderation.trustedflagger": "account",
    "moderation.notice": "moderation_records",
    "moderation.safetysignal": "moderation_records",
    "moderation.report": "moderation_records",
    "moderation.sanction": "sanctions",
    "moderation.statementofreasons": "moderation_records",
    "moderation.appeal": "moderation_records",
    "moderation.filterrule": "no_personal_data",
    "moderation.raidmode": "no_personal_data",
    "moderation.heldmessage": "moderation_records",
    "moderation.threatescalation": "moderation_records",
    "moderation.moderationrecord": "account",
    "moderation.misusemeasure": "misuse_measures",
    "moderation.roommoderatoraction": "moderation_records",
    # Goes with its report (a cascade of the report's own purge).
    "moderation.reportthreadmessage": "moderation_records",
    "moderation.consolepresence": "ephemeral",
    "moderation.moderatornote": "moderator_notes",
    "compliance.legalrequest": "register",
    "compliance.legalrequestsubject": "register",
    "compliance.legalexportapproval": "register",
    "compliance.legalhold": "register",
    "compliance.restrictedrecord": "restricted",
    "compliance.publishedtransparencyreport": "published",
    "audit.auditentry": "audit",
    "audit.chainhead": "no_personal_data",
    "audit.lookedatperson": "audit",
}


@dataclass(frozen=True)
class RetentionPolicy:
    content_operations: timedelta
    presence_intervals: timedelta
    account_data: timedelta
    identity_data: timedelta
    deleted_message_grace: timedelta
    pending_identity_documents: timedelta
    moderation_records: timedelta
    sanctions: timedelta
    misuse_measures: timedelta
    moderator_notes: timedelta
    requisition_packages: timedelta
    backups: timedelta

    def as_days(self) -> dict[str, int]:
        return {name: getattr(self, name).days for name in DEFAULT_RETENTION_DAYS}


def retention_policy() -> RetentionPolicy:
    configured = app_settings.COMPLIANCE_RETENTION
    unknown = set(configured) - set(DEFAULT_RETENTION_DAYS)
    if unknown:
        raise ImproperlyConfigured(
            f"COMPLIANCE_RETENTION: unknown keys {sorted(unknown)}; "
            f"known: {sorted(DEFAULT_RETENTION_DAYS)}"
        )
    days = {**DEFAULT_RETENTION_DAYS, **configured}
    for name, value in days.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ImproperlyConfigured(
                f"COMPLIANCE_RETENTION[{name!r}] must be a positive number of days"
            )
    return RetentionPolicy(**{name: timedelta(days=value) for name, value in days.items()})


# The purge's steps, in the order they run: a deletion completed by the first
# step moves its connection records into the restricted store, which the last
# step reads; texts go before the rows that carry them.
PURGE_STEPS = (
    "account_deletions",
    "connection_records",
    "attestation_challenges",
    "expired_identity_documents",
    "deleted_message_texts",
    # Snapshots a hold kept whole while their quoted texts were purged: redacted
    # once no hold covers their report (the texts' own period is already over).
    "report_snapshots",
    "content_operation_records",
    "content_operations",
    "presence_intervals",
    # Moderation's records (moderation.actions.MODERATION_RECORDS): what hangs
    # on a report (escalations, appeals, statements) before the report, the
    # notice or signal a report came from after it; a room moderator's record
    # of a measure before the sanction, statement or report it points to.
    "room_moderator_actions",
    "threat_escalations",
    "appeals",
    "misuse_measures",
    "statements_of_reasons",
    "sanctions",
    "reports",
    "notices",
    "safety_signals",
    "held_messages",
    "moderator_notes",
    "requisition_packages",
    "reserved_pseudonyms",
    "restricted_records",
)
MODERATION_STEPS = PURGE_STEPS[
    PURGE_STEPS.index("room_moderator_actions") : PURGE_STEPS.index("moderator_notes") + 1
]


def _report_held(prefix: str, held_users: set[int], held_rooms: set[int]) -> Q:
    """A report (reached through `prefix`) that concerns a held account or room."""
    return report_concerning(held_users, held_rooms, prefix)


def _sanction_ended_before(cutoff: datetime) -> Q:
    """A sanction over before `cutoff`: lifted, expired, or a warning given (a
    warning has no duration); a permanent ban still in force never is."""
    return (
        Q(lifted_at__lt=cutoff)
        | Q(lifted_at__isnull=True, kind=SanctionKind.WARN, starts_at__lt=cutoff)
        | Q(lifted_at__isnull=True, ends_at__lt=cutoff)
    )


def _expired_moderation_records(
    step: str, policy: "RetentionPolicy", now: datetime, held_users: set[int], held_rooms: set[int]
) -> QuerySet:
    """Moderation's records whose case closed a period ago, holds excepted.

    A case closes when its decision can no longer be contested or acted on: a
    report when decided, an appeal when decided, a statement when its appeal
    window has passed and the measure it explains has ended, an escalation
    when transmitted (or its report closed), a notice or signal when no report
    made of it is still open, a held message when decided. Their period is
    `moderation_records`; a sanction's is `sanctions` from its end, an Art. 23
    step's `misuse_measures` from its lapse.
    """
    closed_before = now - policy.moderation_records

    def due(kind: str) -> QuerySet:
        return _expired_moderation_records(kind, policy, now, held_users, held_rooms)

    # A record another one still needs (a report its kept escalation or appeal
    # points to, a notice a kept report was made of) stays as long as it: each
    # step's selection says so itself, so a dry run's counts and a run's agree.
    if step == "threat_escalations":
        return (
            ThreatEscalation.objects.exclude(report__status__in=OPEN_STATUSES)
            .filter(
                Q(transmitted_at__lt=closed_before)
                | Q(transmitted_at__isnull=True, report__decided_at__lt=closed_before)
            )
            .exclude(_report_held("report__", held_users, held_rooms))
        )
    if step == "appeals":
        return (
            Appeal.objects.exclude(status=AppealStatus.OPEN)
            .filter(decided_at__lt=closed_before)
            .exclude(appellant_id__in=held_users)
            .exclude(statement__user_id__in=held_users)
            .exclude(_report_held("report__", held_users, held_rooms))
        )
    if step == "misuse_measures":
        # An open appeal may still end a suspension early (moderation/actions/misuse.py).
        return (
            misuse_measures_lapsed(now - policy.misuse_measures)
            .exclude(statement__appeals__status=AppealStatus.OPEN)
            .exclude(user_id__in=held_users)
        )
    if step == "sanctions":
        return (
            Sanction.objects.filter(_sanction_ended_before(now - policy.sanctions))
            .exclude(user_id__in=held_users)
            .exclude(room_id__in=held_rooms)
            .exclude(_report_held("report__", held_users, held_rooms))
        )
    kept_appeals = Appeal.objects.exclude(pk__in=due("appeals").values("pk"))
    kept_sanctions = Sanction.objects.exclude(pk__in=due("sanctions").values("pk"))
    if step == "statements_of_reasons":
        # A statement explains its measure: kept as long as the sanction or the
        # Art. 23 step it explains is kept (a permanent ban in force, always).
        kept_measures = MisuseMeasure.objects.exclude(pk__in=due("misuse_measures").values("pk"))
        return (
            StatementOfReasons.objects.filter(appeal_until__lt=closed_before)
            .filter(Q(ends_at__isnull=True) | Q(ends_at__lt=closed_before))
            .exclude(sanction__in=kept_sanctions)
            .exclude(pk__in=kept_measures.filter(statement__isnull=False).values("statement_id"))
            .exclude(pk__in=kept_appeals.filter(statement__isnull=False).values("statement_id"))
            .exclude(user_id__in=held_users)
            .exclude(_report_held("report__", held_users, held_rooms))
        )
    if step == "reports":
        kept_escalations = ThreatEscalation.objects.exclude(
            pk__in=due("threat_escalations").values("pk")
        )
        return (
            Report.objects.exclude(status__in=OPEN_STATUSES)
            .filter(
                Q(decided_at__lt=closed_before)
                | Q(decided_at__isnull=True, created__lt=closed_before)
            )
            .exclude(pk__in=kept_appeals.filter(report__isnull=False).values("report_id"))
            .exclude(pk__in=kept_escalations.values("report_id"))
            # The report a kept sanction was decided on stays with it.
            .exclude(pk__in=kept_sanctions.filter(report__isnull=False).values("report_id"))
            .exclude(_report_held("", held_users, held_rooms))
        )
    kept_reports = Report.objects.exclude(pk__in=due("reports").values("pk"))
    if step == "notices":
        return Notice.objects.filter(created__lt=closed_before).exclude(
            pk__in=kept_reports.filter(notice__isnull=False).values("notice_id")
        )
    if step == "safety_signals":
        return (
            SafetySignal.objects.filter(created__lt=closed_before)
            .exclude(
                pk__in=kept_reports.filter(safety_signal__isnull=False).values("safety_signal_id")
            )
            .exclude(user_id__in=held_users)
            .exclude(room_id__in=held_rooms)
        )
    if step == "held_messages":
        return (
            HeldMessage.objects.exclude(status=HeldStatus.PENDING)
            .filter(
                Q(decided_at__lt=closed_before)
                | Q(decided_at__isnull=True, created__lt=closed_before)
            )
            .exclude(author_id__in=held_users)
            .exclude(room_id__in=held_rooms)
        )
    if step == "moderator_notes":
        # Kept while the case they comment on is open: a report against the
        # account, or an appeal of theirs, not yet decided.
        open_cases = Report.objects.filter(status__in=OPEN_STATUSES).values("target_user_id")
        open_appeals = Appeal.objects.filter(status=AppealStatus.OPEN).values("appellant_id")
        return (
            ModeratorNote.objects.filter(updated__lt=now - policy.moderator_notes)
            .exclude(subject_id__in=held_users)
            .exclude(subject_id__in=open_cases)
            .exclude(subject_id__in=open_appeals)
        )
    if step == "room_moderator_actions":
        # A room moderator's measure (moderation.RoomModeratorAction): a year
        # from when it was taken or reversed, and as long as the sanction,
        # statement or report it points to is kept (a ban in force, an open case).
        kept_statements = StatementOfReasons.objects.exclude(
            pk__in=due("statements_of_reasons").values("pk")
        )
        return (
            RoomModeratorAction.objects.filter(created__lt=closed_before)
            .filter(Q(reversed_at__isnull=True) | Q(reversed_at__lt=closed_before))
            .exclude(sanction__in=kept_sanctions)
            .exclude(statement__in=kept_statements)
            .exclude(report__in=kept_reports)
            .exclude(Q(actor_id__in=held_users) | Q(target_user_id__in=held_users))
            .exclude(room_id__in=held_rooms)
        )
    raise ValueError(f"unknown moderation purge step {step!r}")


def expired(
    step: str,
    policy: RetentionPolicy,
    now: datetime,
    *,
    held_users: set[int],
    held_rooms: set[int],
) -> QuerySet:
    """The rows that `step` of the purge removes (or empties) at `now`, holds excepted.

    Each step's rows leave this queryset once the step has applied to them, so
    a purge that stopped half-way finds exactly the rest on its next run.
    """
    deleted_messages = Message.objects.filter(deleted_at__isnull=False).exclude(
        Q(author_id__in=held_users) | Q(room_id__in=held_rooms)
    )
    if step == "account_deletions":
        # A hold suspends the purge of retained data, not the anonymisation:
        # everything is kept in the restricted store until the hold ends.
        return AccountDeletionRequest.objects.filter(completed_at__isnull=True)
    if step == "connection_records":
        return ConnectionRecord.objects.filter(created__lt=now - policy.content_operations).exclude(
            user_id__in=held_users
        )
    if step == "attestation_challenges":
        # The single-use challenges of the age attestation flow (used within ten
        # minutes or never): kept as long as the connection records they go with.
        return AttestationNonce.objects.filter(
            issued_at__lt=now - policy.content_operations
        ).exclude(user_id__in=held_users)
    if step == "expired_identity_documents":
        # Identity documents nobody reviewed in time: the file goes, the row
        # says "expired" (accounts owns the write).
        return IdentityDocument.objects.filter(
            status=DocumentStatus.PENDING,
            uploaded_at__lt=now - policy.pending_identity_documents,
        ).exclude(user_id__in=held_users)
    if step == "deleted_message_texts":
        # The text goes after the grace period; the row (who posted and deleted
        # what, when) is the content operation record, kept its own period.
        return deleted_messages.filter(deleted_at__lt=now - policy.deleted_message_grace).exclude(
            body=""
        )
    if step == "report_snapshots":
        # Their quoted texts' period is over (purged by the step above while a
        # hold covered the report): once no hold does, the snapshot loses them.
        return held_back_snapshots(held_users, held_rooms)
    if step == "content_operation_records":
        row_expiry = now - max(policy.content_operations, policy.deleted_message_grace)
        return deleted_messages.filter(deleted_at__lt=row_expiry)
    if step == "content_operations":
        # Who created, edited or deleted a message, when, from which address,
        # port and protocol (rooms.models.ContentOperation): one year.
        return ContentOperation.objects.filter(at__lt=now - policy.content_operations).exclude(
            Q(actor_id__in=held_users) | Q(room_id__in=held_rooms)
        )
    if step == "presence_intervals":
        # Who had a room open when (rooms.models.PresenceInterval): a year from its
        # end; one left open by a dead process ended at its last refresh.
        return (
            PresenceInterval.objects.annotate(end=interval_end(now))
            .filter(end__lt=now - policy.presence_intervals)
            .exclude(Q(user_id__in=held_users) | Q(room_id__in=held_rooms))
        )
    if step in MODERATION_STEPS:
        return _expired_moderation_records(step, policy, now, held_users, held_rooms)
    if step == "requisition_packages":
        # Kept while a hold of the request is active or any hold covers one of
        # its accounts or rooms: the package is part of what the hold preserves.
        active = LegalHold.objects.active()
        return (
            LegalRequest.objects.filter(status__in=CLOSED_STATUSES)
            .exclude(package_name="")
            .filter(answered_at__lt=now - policy.requisition_packages)
            .exclude(pk__in=active.values("request_id"))
            .exclude(accounts__in=held_users)
            .exclude(rooms__in=held_rooms)
        )
    if step == "reserved_pseudonyms":
        # A closed account's pseudonym, reserved as long as its account data
        # are kept (docs/accounts.md), longer while the account is held.
        return ReservedPseudonym.objects.filter(reserved_at__lt=now - policy.account_data).exclude(
            user_id__in=held_users
        )
    if step == "restricted_records":
        return RestrictedRecord.objects.filter(retain_until__lt=now).exclude(user_id__in=held_users)
    raise ValueError(f"unknown purge step {step!r}; known: {PURGE_STEPS}")
