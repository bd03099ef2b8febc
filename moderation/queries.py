"""Reads of moderation: context snapshots, active sanctions, the queue's counts."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, Count, IntegerField, Min, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.refusals import RefusalCode, Refused
from moderation.app_settings import app_settings
from moderation.models import (
    CONTEXT_MESSAGES_AROUND,
    NOTIFIER_STEPS,
    OPEN_STATUSES,
    PROVIDER_STEPS,
    Appeal,
    AppealStatus,
    EscalationAuthority,
    EscalationReason,
    HeldMessage,
    HeldStatus,
    MisuseMeasure,
    ModeratorNote,
    Report,
    ReportCategory,
    ReportStatus,
    SafetySignalKind,
    Sanction,
    Severity,
    StatementOfReasons,
    ThreatEscalation,
)
from rooms.models import Message, Room, RoomKind, RoomMembership

CONTEXT_AROUND = CONTEXT_MESSAGES_AROUND
# How a message's address reads: /rooms/<slug>/#message-<id>, ?message=<id>, /messages/<id>.
MESSAGE_IN_URL = re.compile(r"(?:#message-|[?&]message=|/messages/)(\d+)")
ROOM_IN_URL = re.compile(r"/rooms/([\w-]+)/")
# What an escalation to the authorities carries of the target's connections.
ESCALATION_CONNECTIONS = 10


def snapshot(message: Message) -> dict:
    return {
        "id": message.id,
        "author": message.author.get_username(),
        "author_id": message.author_id,
        "body": message.body,
        "created": message.created.isoformat(),
        "edited": message.edited.isoformat() if message.edited else None,
        "deleted": message.deleted_at is not None,
    }


def context_around(message: Message) -> list[dict]:
    """The message and the 20 around it (10 before, 10 after), oldest first,
    deleted ones included: the snapshot is evidence, kept as it was."""
    in_room = Message.objects.filter(room_id=message.room_id).select_related("author")
    before = list(in_room.filter(id__lt=message.id).order_by("-id")[:CONTEXT_AROUND])
    after = list(in_room.filter(id__gt=message.id).order_by("id")[:CONTEXT_AROUND])
    return [snapshot(m) for m in [*reversed(before), message, *after]]


def last_messages(room: Room, count: int) -> list[dict]:
    recent = Message.objects.filter(room=room).select_related("author").order_by("-id")[:count]
    return [snapshot(m) for m in reversed(list(recent))]


def recent_messages_of(user, *, seen_by, count: int = 2 * CONTEXT_AROUND) -> list[dict]:
    """A reported account's latest messages that the reporter could see."""
    shared = RoomMembership.objects.filter(user=seen_by).values("room_id")
    recent = (
        Message.objects.filter(author=user)
        .filter(Q(room__kind=RoomKind.PUBLIC) | Q(room_id__in=shared))
        .select_related("author")
        .order_by("-id")[:count]
    )
    return [snapshot(m) for m in reversed(list(recent))]


def message_at(location: str) -> Message | None:
    """The message a notice's URL points to, when it names one of ours."""
    match = MESSAGE_IN_URL.search(location)
    if match is None:
        return None
    message = Message.objects.filter(pk=int(match.group(1))).select_related("room", "author")
    room = ROOM_IN_URL.search(urlsplit(location).path)
    if room is not None:
        message = message.filter(room__slug=room.group(1))
    return message.first()


def active_sanctions(user, room: Room | None, kinds):
    """Active sanctions of these kinds that apply in `room`: its own and site-wide ones."""
    scope = Q(room__isnull=True)
    if room is not None:
        scope |= Q(room=room)
    return Sanction.objects.active().filter(user=user, kind__in=kinds).filter(scope)


def may_have_active_sanction(user_id: int) -> bool:
    """False when the user has no sanction that is neither lifted nor over: then
    `active_sanctions` is empty for every room and kind. One plain statement,
    for the common case of a socket opening (no measure at all), which the
    ORM's query with its scope and kinds cost ten times as much CPU to build."""
    table = Sanction._meta.db_table
    with connection.cursor() as cursor:
        # The model's own table name; values as parameters.
        sql = (
            f"SELECT EXISTS (SELECT 1 FROM {table} WHERE user_id = %s AND lifted_at IS NULL"  # noqa: S608
            " AND (ends_at IS NULL OR ends_at > %s))"
        )
        cursor.execute(sql, [user_id, timezone.now()])
        return bool(cursor.fetchone()[0])


def open_queue():
    """The queue: open primaries, most severe first (Report.Meta.ordering)."""
    return Report.objects.filter(status__in=OPEN_STATUSES, duplicate_of__isnull=True)


def queue_counts() -> dict:
    """The badge's counts, in three queries (the landing page and the API poll them)."""
    return {
        **_report_counts(open_queue()),
        "held": HeldMessage.objects.filter(status=HeldStatus.PENDING).count(),
        "appeals": Appeal.objects.filter(status=AppealStatus.OPEN).count(),
    }


def pending_escalations():
    """Notifications to the authorities neither sent nor declined, oldest first."""
    return (
        ThreatEscalation.objects.filter(transmitted_at__isnull=True, declined_at__isnull=True)
        .select_related("report")
        .order_by("created")
    )


def authority_notifications(start, end) -> dict:
    """Art. 18 notifications between two instants: prepared, sent (by reason and
    authority, with the median time from preparation to sending), declined."""
    sent = ThreatEscalation.objects.filter(transmitted_at__gte=start, transmitted_at__lt=end)
    hours = sorted(
        (e.transmitted_at - e.created).total_seconds() / 3600
        for e in sent.only("created", "transmitted_at")
    )
    middle = len(hours) // 2
    median = None
    if hours:
        median = hours[middle] if len(hours) % 2 else (hours[middle - 1] + hours[middle]) / 2
    return {
        "prepared": ThreatEscalation.objects.filter(created__gte=start, created__lt=end).count(),
        "transmitted": sent.count(),
        "transmitted_by_reason": {
            reason: sent.filter(reason=reason).count() for reason in EscalationReason.values
        },
        "transmitted_by_authority": {
            authority: sent.filter(authority=authority).count()
            for authority in EscalationAuthority.values
        },
        "declined": ThreatEscalation.objects.filter(
            declined_at__gte=start, declined_at__lt=end
        ).count(),
        "median_hours_to_transmit": round(median, 1) if median is not None else None,
    }


def _suspect_and_victim(report: Report):
    """Who the notification is about. A request-to-a-minor or sextortion signal names
    the minor in its details; a minor's own declaration is reported on the minor,
    who is then the person to protect, and the suspect is the adult of the
    conversation, if there was one."""
    signal = report.safety_signal
    details = (signal.details or {}) if signal is not None else {}
    users = get_user_model().objects
    if signal is not None and signal.kind == SafetySignalKind.SELF_DECLARED_MINOR:
        adult = details.get("with_member")
        return users.filter(pk=adult).first() if adult else None, report.target_user
    victim = details.get("minor")
    return report.target_user, users.filter(pk=victim).first() if victim else None


# How many lines each list of the landing page shows (the queue has the rest).
LANDING_ROWS = 10


def landing(user) -> dict:
    """The moderators' landing page (the admin index): what needs doing now.

    A fixed number of queries whatever the queue's length. Nothing here names a
    member or quotes what they said: the lists give a report's number, category,
    origin, deadline and (public rooms only) room, so the page needs no stated
    reason; the details are one click away, behind the queue's gate."""
    now = timezone.now()
    queue = open_queue().select_related("room")
    # Child safety first among the urgent, then the nearest deadline.
    urgent = (
        queue.filter(severity=Severity.URGENT)
        .annotate(
            child_safety_first=Case(
                When(category=ReportCategory.CHILD_SAFETY, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("child_safety_first", "deadline")
    )
    held = HeldMessage.objects.filter(status=HeldStatus.PENDING).aggregate(
        count=Count("pk"), oldest=Min("created")
    )
    appeals = Appeal.objects.filter(status=AppealStatus.OPEN).select_related("statement")
    return {
        "counts": {
            **_report_counts(queue, mine=user),
            "held": held["count"],
            "appeals": appeals.count(),
        },
        "urgent": list(urgent[:LANDING_ROWS]),
        "mine": list(
            queue.filter(status=ReportStatus.CLAIMED, claimed_by=user).order_by("deadline")[
                :LANDING_ROWS
            ]
        ),
        "overdue": list(queue.filter(deadline__lt=now).order_by("deadline")[:LANDING_ROWS]),
        "held_oldest": held["oldest"],
        "appeals": list(appeals.order_by("created")[:LANDING_ROWS]),
    }


def _report_counts(queue, *, mine=None) -> dict:
    """Open, urgent and overdue reports (and `mine`'s claimed ones) in one query."""
    counts = {
        "open": Count("pk"),
        "urgent": Count("pk", filter=Q(severity=Severity.URGENT)),
        "overdue": Count("pk", filter=Q(deadline__lt=timezone.now())),
    }
    if mine is not None:
        counts["mine"] = Count("pk", filter=Q(status=ReportStatus.CLAIMED, claimed_by=mine))
    return queue.aggregate(**counts)


# How much of a target's history the report page lists, per kind (links lead to the rest).
HISTORY_ROWS = 20


def target_history(report: Report) -> dict:
    """What the moderator deciding `report` should know about its target: the
    earlier reports about the same account (this group left out), its sanctions
    (in force and past), its statements of reasons and its appeals."""
    user_id = report.target_user_id
    if user_id is None:
        return {}
    group = Q(pk=report.pk) | Q(duplicate_of=report.pk)
    reports = (
        Report.objects.filter(target_user_id=user_id, duplicate_of__isnull=True)
        .exclude(group)
        .order_by("-created")
    )
    sanctions = list(
        Sanction.objects.filter(user_id=user_id)
        .select_related("room")
        .order_by("-created")[:HISTORY_ROWS]
    )
    return {
        "reports": list(reports[:HISTORY_ROWS]),
        "reports_count": reports.count(),
        "active_sanctions": [s for s in sanctions if s.is_active],
        "past_sanctions": [s for s in sanctions if not s.is_active],
        "statements": list(
            StatementOfReasons.objects.filter(user_id=user_id).order_by("-created")[:HISTORY_ROWS]
        ),
        "appeals": list(
            Appeal.objects.filter(appellant_id=user_id)
            .select_related("statement")
            .order_by("-created")[:HISTORY_ROWS]
        ),
    }


def escalation_information(report: Report) -> dict:
    """What PHAROS, the police (17) or emergency services (112) need to act:
    who is threatened and by whom, where, when, what was said, and the
    suspect's connection data (IP address and source port, décret 2021-1362)."""
    from accounts.models import ConnectionRecord

    target, victim = _suspect_and_victim(report)
    reporter = report.reporter
    signal = report.safety_signal
    connections = []
    if target is not None:
        connections = [
            {
                "kind": c.kind,
                "ip_address": c.ip_address,
                "port": c.port,
                "at": c.created.isoformat(),
            }
            for c in ConnectionRecord.objects.filter(user=target)[:ESCALATION_CONNECTIONS]
        ]
    return {
        "report": report.pk,
        "category": report.category,
        "reported_at": report.created.isoformat(),
        "details": report.details,
        "room": report.room.slug if report.room is not None else None,
        "message": snapshot(report.target_message) if report.target_message else None,
        "context": report.context,
        "suspect": {
            "id": target.pk,
            "username": target.get_username(),
            "email": target.email,
            "connections": connections,
        }
        if target is not None
        else None,
        "reporter": {
            "id": reporter.pk,
            "username": reporter.get_username(),
            "email": reporter.email,
        }
        if reporter is not None
        else None,
        "signal": signal.kind if signal is not None else None,
        "victim": {"id": victim.pk, "username": victim.get_username()}
        if victim is not None
        else None,
        "authorities": {
            "pharos": "https://www.internet-signalement.gouv.fr",
            "police": "17",
            "emergency": "112",
        },
    }


def user_export(user) -> dict:
    """A member's own moderation data, for the GDPR export (/api/me/export/):
    the reports they made, the sanctions and statements of reasons that
    concern them, and their appeals."""
    # A statement an authority keeps secret for now is not the member's to see yet.
    statements = StatementOfReasons.objects.disclosed().filter(user=user).order_by("created")
    return {
        "reports": [
            {
                "id": report.pk,
                "category": report.category,
                "details": report.details,
                "created": report.created.isoformat(),
                "status": report.status,
                "decision": report.decision if not report.is_open else "",
                "appeals": [
                    {"text": appeal.text, "status": appeal.status, "answer": appeal.answer}
                    for appeal in report.appeals.all()
                ],
            }
            for report in Report.objects.filter(reporter=user)
            .order_by("created")
            .prefetch_related("appeals")
        ],
        "sanctions": [
            {
                "id": sanction.pk,
                "kind": sanction.kind,
                "room": sanction.room.slug if sanction.room else None,
                "starts_at": sanction.starts_at.isoformat(),
                "ends_at": sanction.ends_at.isoformat() if sanction.ends_at else None,
                "reason": sanction.reason,
                "lifted_at": sanction.lifted_at.isoformat() if sanction.lifted_at else None,
            }
            for sanction in Sanction.objects.filter(user=user).select_related("room")
        ],
        "statements_of_reasons": [
            {
                "id": statement.pk,
                "measure": statement.measure,
                "scope": statement.scope,
                "facts": statement.facts,
                "ground": statement.ground,
                "clause": statement.clause,
                "created": statement.created.isoformat(),
                "appeals": [
                    {"text": appeal.text, "status": appeal.status, "answer": appeal.answer}
                    for appeal in statement.appeals.all()
                ],
            }
            for statement in statements.prefetch_related("appeals")
        ],
    }


def user_named(username):
    """The account a staff API call names, or a refusal (`invalid`, `not_found`)."""
    if not isinstance(username, str) or not username:
        raise Refused(RefusalCode.INVALID, _("Le champ user est requis."))
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Utilisateur introuvable."))
    return user


def decisions_url() -> str:
    """The member's own page of decisions taken on them (statements of reasons)."""
    return reverse("moderation:decisions")


# --- retention: what a legal hold keeps (compliance's purge asks) ----------------------------


def report_concerning(user_ids, room_ids, prefix: str = "") -> Q:
    """A report (reached through `prefix`) about one of these accounts or rooms:
    as its reporter, its target, the reported message's author or its room."""
    return (
        Q(**{f"{prefix}reporter_id__in": user_ids})
        | Q(**{f"{prefix}target_user_id__in": user_ids})
        | Q(**{f"{prefix}room_id__in": room_ids})
        | Q(**{f"{prefix}target_message__author_id__in": user_ids})
    )


def held_back_snapshots(held_users=frozenset(), held_rooms=frozenset()):
    """Reports whose snapshot still quotes texts purged while a hold covered them,
    no hold covering them now: what the purge's `report_snapshots` step redacts."""
    return Report.objects.exclude(redactions_due=[]).exclude(
        report_concerning(held_users, held_rooms)
    )


# --- DSA Art. 23 steps ------------------------------------------------------------------------


def _misuse_window_days(kind: str) -> int:
    if kind in NOTIFIER_STEPS:
        return app_settings.MODERATION_UNFOUNDED_REPORTS_WINDOW_DAYS
    return app_settings.MODERATION_ILLEGAL_CONTENT_WINDOW_DAYS


def misuse_measure_in_force(measure: MisuseMeasure, now=None) -> bool:
    """A suspension until its end; a warning within its window (after it, it has lapsed)."""
    now = now or timezone.now()
    if measure.ends_at is not None:
        return measure.ends_at > now
    return measure.created >= now - timedelta(days=_misuse_window_days(measure.kind))


def misuse_measures_lapsed(before):
    """The Art. 23 steps that lapsed before `before`: their window over (the one the
    procedure counts over) and any suspension ended. The retention policy counts
    their period from then (compliance/retention.py)."""
    lapsed = Q(pk__in=[])
    for kinds, days in (
        (NOTIFIER_STEPS, app_settings.MODERATION_UNFOUNDED_REPORTS_WINDOW_DAYS),
        (PROVIDER_STEPS, app_settings.MODERATION_ILLEGAL_CONTENT_WINDOW_DAYS),
    ):
        lapsed |= Q(kind__in=kinds, created__lt=before - timedelta(days=days))
    return MisuseMeasure.objects.filter(lapsed).filter(
        Q(ends_at__isnull=True) | Q(ends_at__lt=before)
    )


def misuse_measures_in_force(now=None):
    now = now or timezone.now()
    notifier = app_settings.MODERATION_UNFOUNDED_REPORTS_WINDOW_DAYS
    provider = app_settings.MODERATION_ILLEGAL_CONTENT_WINDOW_DAYS
    warning_in_window = Q(ends_at__isnull=True) & (
        Q(kind__in=NOTIFIER_STEPS, created__gte=now - timedelta(days=notifier))
        | (~Q(kind__in=NOTIFIER_STEPS) & Q(created__gte=now - timedelta(days=provider)))
    )
    return MisuseMeasure.objects.filter(Q(ends_at__gt=now) | warning_in_window)


# --- moderators' notes in the member's access request (docs/moderation.md) ------------------


def under_investigation(user_id: int) -> bool:
    """Is a moderation case about this account still open: a report against it not
    yet decided, or a notification to the authorities (Art. 18) not yet sent?"""
    return (
        Report.objects.filter(target_user_id=user_id, status__in=OPEN_STATUSES).exists()
        or ThreatEscalation.objects.filter(
            report__target_user_id=user_id,
            transmitted_at__isnull=True,
            declined_at__isnull=True,
        ).exists()
    )


def moderator_notes_export(user) -> list[dict]:
    """The notes about `user`, as their access request gives them: the text and
    its dates, not who wrote it (a moderator's name is not theirs to have)."""
    return [
        {
            "id": note.pk,
            "text": note.body,
            "written": note.created.isoformat(),
            "updated": note.updated.isoformat(),
        }
        for note in ModeratorNote.objects.filter(subject=user).order_by("created", "pk")
    ]
