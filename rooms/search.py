"""Searching the messages one may read now (GET /api/search/, docs/protocol.md).

On PostgreSQL: full-text search with the `chatsite_french` configuration
(French stemming, accents ignored through unaccent; rooms/migrations/0003),
served by a GIN index on the same expression, and highlights from ts_headline.
Elsewhere (SQLite, the embedded default): every word of the query must appear
in the text, letter case and accents ignored, matched in Python on the room's
candidates; slower, but the same answers for plain words.

Only rooms the user may read now count: public rooms, and the private and
direct rooms they belong to, less those that refuse them (a ban, a block, an
unanswered request: rooms.policy.can_join, asked once per room met). Deleted
messages never.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, TextField
from django.db.models.expressions import Func, Value

from rooms import policy
from rooms.models import Message, Room, RoomKind
from rooms.queries import MESSAGE_RELATED, with_conversation_fields

SEARCH_CONFIG = "chatsite_french"
# Control characters never survive rooms.text.clean_body, so they cannot occur
# in a body: safe markers for ts_headline's highlights.
_START, _STOP = "\x02", "\x03"
# Candidates read per query while filling a page.
_CHUNK = 200


@dataclass
class Hit:
    message: Message
    highlights: list[list[int]]  # [start, end) character ranges of the body


def fold(text: str) -> str:
    """Lower case without accents: "Cinéma" and "cinema" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


_WORD = re.compile(r"\w+")


def query_words(text: str) -> list[str]:
    return [fold(word) for word in _WORD.findall(text)]


def _candidate_rooms(user):
    """Rooms that could be readable: public ones, and those the user belongs to."""
    return Room.objects.filter(
        Q(kind=RoomKind.PUBLIC, is_archived=False) | Q(memberships__user=user, is_archived=False)
    ).values("id")


class _Headline(Func):
    function = "ts_headline"
    output_field = TextField()


def _postgres_matches(queryset, text: str):
    query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
    # The same expression as the GIN index: to_tsvector(config, COALESCE(body, '')).
    return (
        queryset.annotate(document=SearchVector("body", config=SEARCH_CONFIG))
        .filter(document=query)
        .annotate(
            headline=_Headline(
                Value(SEARCH_CONFIG),
                "body",
                query,
                Value(f'HighlightAll=true, StartSel="{_START}", StopSel="{_STOP}"'),
            )
        )
    )


def _ranges_from_headline(headline: str) -> list[list[int]]:
    ranges, position, start = [], 0, None
    for char in headline:
        if char == _START:
            start = position
        elif char == _STOP:
            if start is not None and position > start:
                ranges.append([start, position])
            start = None
        else:
            position += 1
    return ranges


def _python_ranges(body: str, words: list[str]) -> list[list[int]] | None:
    """Ranges of the body's words that start with a query word, or None when a
    query word is missing (every word must be found)."""
    ranges, found = [], set()
    for match in _WORD.finditer(body):
        folded = fold(match.group())
        hit = [word for word in words if folded.startswith(word)]
        if hit:
            found.update(hit)
            ranges.append([match.start(), match.end()])
    return ranges if found == set(words) else None


def search_messages(
    user, text: str, *, room: Room | None = None, before: int | None = None, limit: int = 20
) -> tuple[list[Hit], int | None]:
    """Up to `limit` hits, newest first, and the id to ask `before` for the
    next page (None when there is none)."""
    words = query_words(text)
    if not words:
        return [], None
    queryset = Message.objects.filter(deleted_at__isnull=True).select_related(*MESSAGE_RELATED)
    if room is not None:
        queryset = queryset.filter(room=room)
    else:
        queryset = queryset.filter(room_id__in=_candidate_rooms(user))
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    postgres = connection.vendor == "postgresql"
    if postgres:
        queryset = _postgres_matches(queryset, text)
    else:
        # A cheap first cut; accents and case are then checked in Python.
        longest = max(words, key=len)
        if longest.isascii():
            queryset = queryset.filter(body__icontains=longest) | queryset.filter(
                body__regex=r"[^\x00-\x7f]"
            )
    queryset = queryset.order_by("-id")
    readable: dict[int, bool] = {}
    hits: list[Hit] = []
    cursor = None
    while len(hits) <= limit:
        chunk = list(queryset.filter(id__lt=cursor)[:_CHUNK] if cursor else queryset[:_CHUNK])
        if not chunk:
            break
        for message in chunk:
            cursor = message.id
            if message.room_id not in readable:
                readable[message.room_id] = bool(policy.can_join(user, message.room))
            if not readable[message.room_id]:
                continue
            if postgres:
                ranges = _ranges_from_headline(message.headline)
            else:
                ranges = _python_ranges(message.body, words)
                if ranges is None:
                    continue
            hits.append(Hit(message, ranges))
            if len(hits) > limit:
                break
        if len(chunk) < _CHUNK:
            break
    more = len(hits) > limit
    hits = hits[:limit]
    with_conversation_fields([hit.message for hit in hits])
    return hits, (hits[-1].message.id if more and hits else None)
