"""Reads of the compliance app: holds, the GDPR export and a requisition's data."""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from accounts.models import ConnectionRecord, PseudonymHistory, User
from accounts.pseudonyms import pseudonym_key
from compliance.models import (
    CLOSED_STATUSES,
    DataCategory,
    LegalHold,
    LegalRequest,
    RestrictedCategory,
    RestrictedRecord,
    SubjectSource,
)
from moderation import queries as moderation_queries
from moderation.models import Appeal, Report, Sanction, StatementOfReasons
from rooms.models import Block, ContentOperation, Message, PresenceInterval, RoomMembership
from rooms.presence import presence_deadline
from rooms.presence_history import interval_end


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# --- legal holds --------------------------------------------------------------------------


def active_holds():
    return LegalHold.objects.active()


def held_user_ids() -> set[int]:
    return set(active_holds().filter(user__isnull=False).values_list("user_id", flat=True))


def held_room_ids() -> set[int]:
    return set(active_holds().filter(room__isnull=False).values_list("room_id", flat=True))


def is_user_held(user_id: int) -> bool:
    return active_holds().filter(user_id=user_id).exists()


# --- GDPR access and portability (GET /api/me/export/) -----------------------------------------


def _message_row(message: Message) -> dict:
    return {
        "id": message.pk,
        "room": message.room.slug,
        "room_kind": message.room.kind,
        "body": message.body,
        "created": _iso(message.created),
        "client_id": message.client_id,
        "deleted_at": _iso(message.deleted_at),
        "edited": _iso(message.edited),
        "reply_to_id": message.reply_to_id,
    }


def _connection_row(record: ConnectionRecord) -> dict:
    return {
        "kind": record.kind,
        "ip_address": record.ip_address,
        "port": record.port,
        "time": _iso(record.created),
    }


def moderator_notes_restricted(user: User) -> bool:
    """GDPR Art. 23(1)(d) and (j), French loi 78-17 art. 48 and 107: while an
    investigation about the account is open (a moderation case, a notification to the
    authorities, a requisition or a legal hold naming it), the moderators' notes are
    withheld from their access request, lest it warn them; the export's audit entry
    counts what was withheld, and the next request once the case closes gets it all."""
    open_requests = LegalRequest.objects.exclude(status__in=CLOSED_STATUSES).filter(
        Q(accounts=user) | Q(subjects__user=user)
    )
    return (
        moderation_queries.under_investigation(user.pk)
        or open_requests.exists()
        or is_user_held(user.pk)
    )


def gdpr_export(user: User) -> dict:
    """Everything we hold about `user` that is theirs to see, as JSON-ready data.

    Not included: other people's data (who reported them, moderators' names)
    and the audit trail, whose entries about them are staff records.
    """
    moderation_data = moderation_queries.user_export(user)
    messages = Message.objects.filter(author=user).select_related("room").order_by("id")
    return {
        "format": "chatsite-gdpr-export/1",
        "account": {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "emails": [
                {"email": address.email, "verified": address.verified, "primary": address.primary}
                for address in user.emailaddress_set.order_by("id")
            ],
            "date_of_birth": _iso(user.date_of_birth),
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "is_active": user.is_active,
            "age_verified_at": _iso(user.age_verified_at),
            "age_verification_method": user.age_verification_method,
            "direct_messages_from": user.direct_messages_from,
        },
        "age_verification_attempts": [
            {
                "method": attempt.method,
                "outcome": attempt.outcome,
                "reason": attempt.reason,
                "issuer": attempt.issuer,
                "time": _iso(attempt.created),
            }
            for attempt in user.age_verification_attempts.order_by("created", "id")
        ],
        "messages": [_message_row(message) for message in messages.iterator(chunk_size=2000)],
        "rooms": [
            {
                "room": membership.room.slug,
                "role": membership.role,
                "joined": _iso(membership.joined_at),
            }
            for membership in RoomMembership.objects.filter(user=user).select_related("room")
        ],
        "blocks": [
            {"blocked": block.blocked.username, "since": _iso(block.created_at)}
            for block in Block.objects.filter(blocker=user).select_related("blocked")
        ],
        "reports": moderation_data["reports"],
        "sanctions": moderation_data["sanctions"],
        "statements_of_reasons": moderation_data["statements_of_reasons"],
        # What moderators noted about them (their personal data, Art. 15), save
        # during an investigation (moderator_notes_restricted).
        "moderator_notes": []
        if moderator_notes_restricted(user)
        else moderation_queries.moderator_notes_export(user),
        "connections": [
            _connection_row(record)
            for record in ConnectionRecord.objects.filter(user=user).order_by("created", "id")
        ],
        "pseudonyms": [
            {"name": row.name, "from": _iso(row.valid_from), "to": _iso(row.valid_to)}
            for row in PseudonymHistory.objects.filter(user=user)
        ],
        # What they posted, edited and deleted, from which address and port, and
        # the staff actions they took or that touched their messages.
        "content_operations": [
            {"message_id": operation.content_id, **_own_operation_row(operation, user)}
            for operation in ContentOperation.objects.filter(
                Q(actor=user) | Q(staff_member=user)
            ).order_by("at", "id")
        ],
    }


# --- who held a pseudonym, when (requisitions name a pseudonym and a period) ----------------


@dataclass(frozen=True)
class PseudonymHolder:
    """One account that held `held_name` (the named pseudonym or a look-alike,
    same UTS #39 skeleton) from `held_from` to `held_to` (None: still holds it)."""

    user_id: int
    held_name: str
    held_from: datetime
    held_to: datetime | None
    source: str  # SubjectSource

    def as_dict(self) -> dict:
        return {
            "account_id": self.user_id,
            "held_name": self.held_name,
            "held_from": _iso(self.held_from),
            "held_to": _iso(self.held_to),
            "source": self.source,
        }


def _overlaps(held_from, held_to, start, end) -> bool:
    return held_from <= end and (held_to is None or held_to >= start)


def resolve_pseudonym(name: str, start: datetime, end: datetime) -> list[PseudonymHolder]:
    """Every account that held `name` (or a look-alike of it) at some time between
    `start` and `end`: the live pseudonym history, and the restricted store of
    closed accounts, whose names went there at closure. Never simply the
    account that holds the name today: "camille" closed and a new "camille"
    registered are two holders, each for their own period. More than one
    holder is for the officer to settle (docs/compliance.md)."""
    key = pseudonym_key(name.strip())
    holders = [
        PseudonymHolder(row.user_id, row.name, row.valid_from, row.valid_to, SubjectSource.LIVE)
        for row in PseudonymHistory.objects.filter(pseudonym_key=key, valid_from__lte=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
        .order_by("valid_from", "id")
    ]
    retained = RestrictedRecord.objects.filter(
        category=RestrictedCategory.PSEUDONYM, data__pseudonym_key=key, occurred_at__lte=end
    ).order_by("occurred_at", "id")
    for record in retained:
        held_to = parse_datetime(record.data["to"]) if record.data.get("to") else None
        if _overlaps(record.occurred_at, held_to, start, end):
            holders.append(
                PseudonymHolder(
                    record.user_id,
                    record.data.get("name", ""),
                    record.occurred_at,
                    held_to,
                    SubjectSource.RESTRICTED,
                )
            )
    # An account created before the history existed and never given a row
    # (the migration backfills every account; this is the safety net).
    known = {holder.user_id for holder in holders}
    for user in User.objects.filter(pseudonym_key=key, date_joined__lte=end).exclude(pk__in=known):
        if not PseudonymHistory.objects.filter(user=user).exists():
            holders.append(
                PseudonymHolder(
                    user.pk, user.username, user.date_joined, None, SubjectSource.CURRENT
                )
            )
    holders.sort(key=lambda holder: (holder.held_from, holder.user_id))
    return holders


def pseudonyms_held(user_id: int) -> list[dict]:
    """Every pseudonym the account held, live or from the restricted store, oldest first."""
    rows = [
        {"name": row.name, "from": _iso(row.valid_from), "to": _iso(row.valid_to), "source": "live"}
        for row in PseudonymHistory.objects.filter(user_id=user_id)
    ]
    rows += [
        {
            "name": record.data.get("name", ""),
            "from": _iso(record.occurred_at),
            "to": record.data.get("to"),
            "source": "restricted",
        }
        for record in RestrictedRecord.objects.filter(
            user_id=user_id, category=RestrictedCategory.PSEUDONYM
        )
    ]
    rows.sort(key=lambda row: row["from"])
    return rows


def pseudonym_at(user_id: int, when: datetime) -> str:
    """The pseudonym the account held at `when` ("" when unknown)."""
    for row in pseudonyms_held(user_id):
        held_from = parse_datetime(row["from"])
        held_to = parse_datetime(row["to"]) if row["to"] else None
        if held_from <= when and (held_to is None or when < held_to):
            return row["name"]
    return ""


# --- reverse look-up: which account used this address and port, then -----------------------

DEFAULT_LOOKUP_WINDOW = timedelta(minutes=5)


def normalised_ip(value: str) -> str:
    """The address as stored (GenericIPAddressField's form); ValueError when it is not one."""
    return str(ipaddress.ip_address(value.strip()))


def reverse_lookup(
    ip_address: str, port: int | None, when: datetime, window: timedelta = DEFAULT_LOOKUP_WINDOW
) -> list[dict]:
    """Who used `ip_address` (and `port`, when given) around `when`: content
    operations carried from there, connections opened from there (live, or
    in the restricted store of closed accounts), within `when` ± `window`.
    One row per piece of evidence, oldest first, with the pseudonym the
    account held at that time. The caller (compliance.actions.lookups) checks
    the permission and audits the look."""
    ip_address = normalised_ip(ip_address)
    start, end = when - window, when + window
    rows = []
    operations = ContentOperation.objects.filter(ip_address=ip_address, at__range=(start, end))
    connections = ConnectionRecord.objects.filter(
        ip_address=ip_address, created__range=(start, end)
    )
    retained = RestrictedRecord.objects.filter(
        category=RestrictedCategory.CONNECTION,
        data__ip_address=ip_address,
        occurred_at__range=(start, end),
    )
    if port is not None:
        operations = operations.filter(port=port)
        connections = connections.filter(port=port)
        retained = retained.filter(data__port=port)
    for operation in operations.order_by("at", "id"):
        # A staff action's address is the staff member's request: it names them,
        # never the author they acted for.
        staff = operation.staff_member_id
        rows.append(
            {
                "source": "content_operation",
                "account_id": staff or operation.actor_id,
                "time": operation.at,
                "what": f"{operation.kind} #{operation.content_id}"
                + (f" (staff action for account #{operation.actor_id})" if staff else ""),
                "ip_address": operation.ip_address,
                "port": operation.port,
                "protocol": operation.protocol,
            }
        )
    for record in connections.order_by("created", "id"):
        rows.append(
            {
                "source": "connection",
                "account_id": record.user_id,
                "time": record.created,
                "what": record.kind,
                "ip_address": record.ip_address,
                "port": record.port,
                "protocol": "",
            }
        )
    for record in retained.order_by("occurred_at", "id"):
        rows.append(
            {
                "source": "restricted_connection",
                "account_id": record.user_id,
                "time": record.occurred_at,
                "what": record.data.get("kind", ""),
                "ip_address": record.data.get("ip_address"),
                "port": record.data.get("port"),
                "protocol": "",
            }
        )
    rows.sort(key=lambda row: (row["time"], row["account_id"]))
    for row in rows:
        row["pseudonym_then"] = pseudonym_at(row["account_id"], row["time"])
    return rows


# --- a requisition's data -------------------------------------------------------------------


def scoped_messages(request: LegalRequest):
    """Messages of the period, by the accounts or in the rooms in scope (deleted ones too)."""
    scope = Q(author__in=request.accounts.all()) | Q(room__in=request.rooms.all())
    return (
        Message.objects.filter(scope)
        .filter(created__gte=request.period_start, created__lte=request.period_end)
        .select_related("room", "author", "deleted_by")
        .prefetch_related("versions")
        .order_by("id")
    )


def presence_rows(request: LegalRequest) -> list[dict]:
    """Who had a room the request names open during its period, and when (the
    presence intervals, rooms/presence_history.py): one row per stay."""
    deadline = presence_deadline()
    intervals = (
        PresenceInterval.objects.filter(
            room__in=request.rooms.all(), started_at__lte=request.period_end
        )
        .annotate(end=interval_end())
        .filter(end__gte=request.period_start)
        .select_related("room")
        .order_by("started_at", "id")
    )
    return [
        {
            "room": interval.room.slug,
            "account_id": interval.user_id,
            "pseudonym_then": pseudonym_at(interval.user_id, interval.started_at),
            "from": interval.started_at.isoformat(),
            # Empty: still in the room when the package was made.
            "to": ""
            if interval.ended_at is None and interval.seen_at >= deadline
            else interval.end.isoformat(),
        }
        for interval in intervals
    ]


def identity_rows(request: LegalRequest) -> list[dict]:
    """Identification data of each account in scope, live or from the restricted store."""
    rows = []
    for user in request.accounts.order_by("id"):
        retained = {
            record.category: record.data
            for record in RestrictedRecord.objects.filter(
                user=user, category__in=("identity", "account")
            )
        }
        rows.append(
            {
                "account_id": user.pk,
                "username": user.username,
                "email": user.email,
                "emails": list(user.emailaddress_set.values_list("email", flat=True)),
                "date_of_birth": _iso(user.date_of_birth),
                "date_joined": _iso(user.date_joined),
                "last_login": _iso(user.last_login),
                "is_active": user.is_active,
                "age_verified_at": _iso(user.age_verified_at),
                "age_verification_method": user.age_verification_method,
                "pseudonyms": pseudonyms_held(user.pk),
                "deleted_account_identity": retained.get("identity"),
                "deleted_account_data": retained.get("account"),
            }
        )
    return rows


def connection_rows(request: LegalRequest) -> list[dict]:
    """IP, source port and time of each connection of the period, live or retained."""
    accounts = list(request.accounts.values_list("id", "username"))
    usernames = dict(accounts)
    rows = [
        {
            "account_id": record.user_id,
            "username": usernames[record.user_id],
            "kind": record.kind,
            "ip_address": record.ip_address or "",
            "port": record.port if record.port is not None else "",
            "time": _iso(record.created),
            "source": "live",
        }
        for record in ConnectionRecord.objects.filter(
            user_id__in=usernames,
            created__gte=request.period_start,
            created__lte=request.period_end,
        ).order_by("created", "id")
    ]
    for record in RestrictedRecord.objects.filter(
        user_id__in=usernames,
        category="connection",
        occurred_at__gte=request.period_start,
        occurred_at__lte=request.period_end,
    ).order_by("occurred_at", "id"):
        rows.append(
            {
                "account_id": record.user_id,
                "username": usernames[record.user_id],
                "kind": record.data.get("kind", ""),
                "ip_address": record.data.get("ip_address") or "",
                "port": record.data.get("port") if record.data.get("port") is not None else "",
                "time": _iso(record.occurred_at),
                "source": "restricted",
            }
        )
    rows.sort(key=lambda row: (row["time"], row["account_id"]))
    return rows


def _operation_row(operation: ContentOperation) -> dict:
    """One content operation in a requisition's package. `carried_by` says whose
    connection the address, port and protocol are: the actor's own (`member`), or,
    for a staff action (a moderator's removal, a held message's release), the
    staff member's back-office request (`staff`, `staff_member_id` naming them)."""
    return {
        "kind": operation.kind,
        "time": _iso(operation.at),
        "actor_id": operation.actor_id,
        "staff_action": operation.is_staff_action,
        "staff_member_id": operation.staff_member_id,
        "carried_by": "staff" if operation.is_staff_action else "member",
        "connection_record_id": operation.connection_id,
        "ip_address": operation.ip_address,
        "port": operation.port,
        "protocol": operation.protocol,
    }


def _own_operation_row(operation: ContentOperation, user) -> dict:
    """An operation in `user`'s own export: a connection that was not theirs (a
    moderator's request that removed or released their message) is not shown,
    only that staff acted; the staff member stays unnamed, as in a statement."""
    row = _operation_row(operation)
    row.pop("staff_member_id")
    if operation.is_staff_action and operation.staff_member_id != user.pk:
        row.update(connection_record_id=None, ip_address=None, port=None, protocol="")
    return row


def message_rows(request: LegalRequest) -> list[dict]:
    """The messages in scope, each with its content operations (created, edited,
    deleted: when, by whom, from which address, port and protocol)."""
    messages = list(scoped_messages(request))
    operations: dict[int, list[dict]] = {}
    for operation in ContentOperation.objects.filter(
        content_id__in=[message.pk for message in messages]
    ).order_by("at", "id"):
        operations.setdefault(operation.content_id, []).append(_operation_row(operation))
    return [
        {
            "id": message.pk,
            "room": message.room.slug,
            "room_kind": message.room.kind,
            "author_id": message.author_id,
            "author": message.author.username,
            "body": message.body,
            "created": _iso(message.created),
            "deleted_at": _iso(message.deleted_at),
            "deleted_by_id": message.deleted_by_id,
            "deletion_reason": message.deletion_reason,
            "reply_to_id": message.reply_to_id,
            "edited": _iso(message.edited),
            # Earlier texts of an edited message, oldest first (0: as posted).
            "versions": [
                {
                    "number": version.number,
                    "body": version.body,
                    "written_at": _iso(version.written_at),
                    "replaced_at": _iso(version.replaced_at),
                }
                for version in message.versions.all()
            ],
            "operations": operations.get(message.pk, []),
        }
        for message in messages
    ]


def moderation_rows(request: LegalRequest) -> dict:
    """Reports, sanctions, statements of reasons and appeals touching the scope."""
    accounts = request.accounts.all()
    rooms = request.rooms.all()
    reports = Report.objects.filter(
        Q(target_user__in=accounts) | Q(reporter__in=accounts) | Q(room__in=rooms)
    ).order_by("created", "id")
    sanctions = Sanction.objects.filter(Q(user__in=accounts) | Q(room__in=rooms)).order_by(
        "created", "id"
    )
    statements = StatementOfReasons.objects.filter(user__in=accounts).order_by("created", "id")
    appeals = Appeal.objects.filter(appellant__in=accounts).order_by("created", "id")
    return {
        "reports": [
            {
                "id": report.pk,
                "category": report.category,
                "source": report.source,
                "reporter_id": report.reporter_id,
                "target_user_id": report.target_user_id,
                "target_message_id": report.target_message_id,
                "room": report.room.slug if report.room else None,
                "details": report.details,
                "context": report.context,
                "status": report.status,
                "decision": report.decision,
                "created": _iso(report.created),
                "decided_at": _iso(report.decided_at),
            }
            for report in reports.select_related("room")
        ],
        "sanctions": [
            {
                "id": sanction.pk,
                "user_id": sanction.user_id,
                "kind": sanction.kind,
                "room": sanction.room.slug if sanction.room else None,
                "reason": sanction.reason,
                "ground": sanction.ground,
                "automated": sanction.automated,
                "starts_at": _iso(sanction.starts_at),
                "ends_at": _iso(sanction.ends_at),
                "lifted_at": _iso(sanction.lifted_at),
            }
            for sanction in sanctions.select_related("room")
        ],
        "statements_of_reasons": [
            {
                "id": statement.pk,
                "user_id": statement.user_id,
                "measure": statement.measure,
                "scope": statement.scope,
                "facts": statement.facts,
                "ground": statement.ground,
                "legal_provision": statement.legal_provision,
                "category": statement.category,
                "source_type": statement.source_type,
                "automated_detection": statement.automated_detection,
                "automated_decision": statement.automated_decision,
                "created": _iso(statement.created),
            }
            for statement in statements
        ],
        "appeals": [
            {
                "id": appeal.pk,
                "appellant_id": appeal.appellant_id,
                "text": appeal.text,
                "status": appeal.status,
                "answer": appeal.answer,
                "created": _iso(appeal.created),
                "decided_at": _iso(appeal.decided_at),
            }
            for appeal in appeals
        ],
    }


CATEGORY_ROWS = {
    DataCategory.IDENTITY: identity_rows,
    DataCategory.CONNECTIONS: connection_rows,
    DataCategory.MESSAGES: message_rows,
    DataCategory.MODERATION: moderation_rows,
}
