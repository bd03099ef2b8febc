"""The case file of an account: everything moderation holds about it, one timeline.

Reports against the account and by it, filter hits (automatic reports of a filter's
flag), safety signals, sanctions, statements of reasons, appeals, held messages and
moderators' notes; newest first, paged. The page costs the same few queries whatever
the length of the file: one query orders the entries of every kind together (a UNION
of (kind, id, date) rows, limited to the page), one counts them, then one query per
kind fetches the rows the page shows, with what they point to.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import CharField, F, Q, QuerySet, Value
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from moderation.models import (
    Appeal,
    HeldMessage,
    ModeratorNote,
    Report,
    ReportSource,
    SafetySignal,
    Sanction,
    StatementOfReasons,
)

PAGE_SIZE = 50
SUMMARY_CHARS = 240


@dataclass(frozen=True)
class EntryKind:
    """One kind of timeline entry: which rows, which date, which admin page."""

    code: str
    label: str
    model: type
    date_field: str
    related: tuple[str, ...]
    admin_page: str

    def rows(self, user_id: int) -> QuerySet:
        return KIND_FILTERS[self.code](user_id)


def _filter_hit() -> Q:
    # A filter's flag files an automatic report with no safety signal behind it
    # (moderation/actions/filters.py); a filter's block writes a statement, its
    # hold a held message, its mute a sanction: those show as such.
    return Q(source=ReportSource.AUTOMATIC, safety_signal__isnull=True)


KIND_FILTERS = {
    "report_against": lambda uid: Report.objects.filter(target_user_id=uid).exclude(_filter_hit()),
    "report_by": lambda uid: Report.objects.filter(reporter_id=uid),
    "filter_hit": lambda uid: Report.objects.filter(_filter_hit(), target_user_id=uid),
    "safety_signal": lambda uid: SafetySignal.objects.filter(user_id=uid),
    "sanction": lambda uid: Sanction.objects.filter(user_id=uid),
    "statement": lambda uid: StatementOfReasons.objects.filter(user_id=uid),
    "appeal": lambda uid: Appeal.objects.filter(appellant_id=uid),
    "held_message": lambda uid: HeldMessage.objects.filter(author_id=uid),
    "note": lambda uid: ModeratorNote.objects.filter(subject_id=uid),
}

KINDS = (
    EntryKind(
        "report_against",
        gettext_lazy("signalement le visant"),
        Report,
        "created",
        ("reporter", "target_user", "room"),
        "admin:moderation_report_change",
    ),
    EntryKind(
        "report_by",
        gettext_lazy("signalement de sa part"),
        Report,
        "created",
        ("reporter", "target_user", "room"),
        "admin:moderation_report_change",
    ),
    EntryKind(
        "filter_hit",
        gettext_lazy("filtre déclenché"),
        Report,
        "created",
        ("target_user", "room"),
        "admin:moderation_report_change",
    ),
    EntryKind(
        "safety_signal",
        gettext_lazy("signal de sécurité"),
        SafetySignal,
        "created",
        ("room",),
        "admin:moderation_safetysignal_change",
    ),
    EntryKind(
        "sanction",
        gettext_lazy("sanction"),
        Sanction,
        "created",
        ("room", "issued_by"),
        "admin:moderation_sanction_change",
    ),
    EntryKind(
        "statement",
        gettext_lazy("exposé des motifs"),
        StatementOfReasons,
        "created",
        (),
        "admin:moderation_statementofreasons_change",
    ),
    EntryKind(
        "appeal",
        gettext_lazy("recours"),
        Appeal,
        "created",
        ("statement", "report"),
        "admin:moderation_appeal_change",
    ),
    EntryKind(
        "held_message",
        gettext_lazy("message retenu"),
        HeldMessage,
        "created",
        ("room", "rule"),
        "admin:moderation_heldmessage_change",
    ),
    EntryKind(
        "note",
        gettext_lazy("note de modération"),
        ModeratorNote,
        "created",
        ("author", "updated_by"),
        "admin:moderation_moderatornote_change",
    ),
)
KIND_BY_CODE = {kind.code: kind for kind in KINDS}


@dataclass
class Entry:
    kind: EntryKind
    at: datetime
    obj: object
    summary: str
    url: str


@dataclass
class CaseFilePage:
    entries: list[Entry]
    total: int
    page: int
    pages: int
    counts: dict[str, int]

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _index(user_id: int) -> QuerySet:
    """Every entry of the file as (kind, id, date) rows, all kinds in one query."""
    parts = [
        kind.rows(user_id)
        .order_by()
        .annotate(
            entry_kind=Value(kind.code, output_field=CharField()),
            entry_at=F(kind.date_field),
        )
        .values_list("entry_kind", "pk", "entry_at")
        for kind in KINDS
    ]
    return parts[0].union(*parts[1:], all=True)


def _short(text: str) -> str:
    return Truncator(" ".join((text or "").split())).chars(SUMMARY_CHARS)


def _name(user) -> str:
    return user.get_username() if user is not None else "—"


def _summary(code: str, obj) -> str:
    """One line about the entry, plain text (the template escapes it)."""
    if code in ("report_against", "filter_hit"):
        return _("%(category)s · %(status)s · par %(reporter)s · %(details)s") % {
            "category": obj.get_category_display(),
            "status": obj.get_status_display(),
            "reporter": _name(obj.reporter) if obj.reporter_id else obj.get_source_display(),
            "details": _short(obj.details),
        }
    if code == "report_by":
        return _("%(category)s · %(status)s · visant %(target)s · %(details)s") % {
            "category": obj.get_category_display(),
            "status": obj.get_status_display(),
            "target": _name(obj.target_user),
            "details": _short(obj.details),
        }
    if code == "safety_signal":
        return _("%(kind)s · %(room)s · %(excerpt)s") % {
            "kind": obj.get_kind_display(),
            "room": obj.room.slug if obj.room_id else "—",
            "excerpt": _short(obj.excerpt),
        }
    if code == "sanction":
        return _("%(kind)s · %(scope)s · %(state)s · %(reason)s") % {
            "kind": obj.get_kind_display(),
            "scope": obj.room.slug if obj.room_id else _("tout le site"),
            "state": _("en vigueur") if obj.is_active else _("terminée"),
            "reason": _short(obj.reason),
        }
    if code == "statement":
        return _("%(measure)s · %(ground)s · %(facts)s") % {
            "measure": obj.get_measure_display(),
            "ground": obj.get_ground_display(),
            "facts": _short(obj.facts),
        }
    if code == "appeal":
        return _("%(status)s · %(text)s") % {
            "status": obj.get_status_display(),
            "text": _short(obj.text),
        }
    if code == "held_message":
        return _("%(status)s · %(room)s · %(body)s") % {
            "status": obj.get_status_display(),
            "room": obj.room.slug,
            "body": _short(obj.body),
        }
    # A note is shown whole: it is written for this page.
    return obj.body


def case_file_page(user_id: int, page: int = 1, page_size: int = PAGE_SIZE) -> CaseFilePage:
    """Page `page` (from 1) of the account's timeline, newest first."""
    index = _index(user_id)
    total = index.count()
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    start = (page - 1) * page_size
    rows = list(index.order_by("-entry_at", "-pk")[start : start + page_size])
    wanted: dict[str, list[int]] = {}
    for code, pk, _at in rows:
        wanted.setdefault(code, []).append(pk)
    fetched = {}
    for code, ids in wanted.items():
        kind = KIND_BY_CODE[code]
        rows_of_kind = kind.model.objects.all()
        if kind.related:
            rows_of_kind = rows_of_kind.select_related(*kind.related)
        fetched[code] = rows_of_kind.in_bulk(ids)
    entries = []
    for code, pk, at in rows:
        kind = KIND_BY_CODE[code]
        obj = fetched[code].get(pk)
        if obj is None:  # purged between the two queries
            continue
        entries.append(
            Entry(
                kind=kind,
                at=at,
                obj=obj,
                summary=_summary(code, obj),
                url=reverse(kind.admin_page, args=[pk]),
            )
        )
    return CaseFilePage(
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        counts={code: len(ids) for code, ids in wanted.items()},
    )


def people_shown(page: CaseFilePage) -> set[int]:
    """The accounts whose pseudonym the page shows besides its subject (reporters,
    targets of the subject's reports): the look's entry names them too."""
    people = set()
    for entry in page.entries:
        for field in ("reporter_id", "target_user_id"):
            value = getattr(entry.obj, field, None)
            if value is not None:
                people.add(value)
    return people


def rooms_shown(page: CaseFilePage) -> set[int]:
    return {entry.obj.room_id for entry in page.entries if getattr(entry.obj, "room_id", None)}
