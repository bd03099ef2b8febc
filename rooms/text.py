"""Cleaning of message bodies and the message JSON of docs/protocol.md."""

import re

from rooms.protocol import REACTION_EMOJIS, REPLY_EXCERPT_LENGTH

# Line breaks and tabs are kept (multi-line messages); every other control
# character goes (Unicode's categories Cc, U+0000-001F and U+007F-009F, and Cs,
# the surrogates: both fixed by Unicode's stability policy), and so do the
# bidirectional overrides that can make a text read differently from what it
# is. One regular expression rather than a category look-up per character:
# every post's body passes here (issue 20; tests/rooms/test_text.py holds it
# equal to the per-character rule over every code point).
_STRIPPED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def strip_control_characters(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _STRIPPED.sub("", text)


def clean_body(text: str) -> str:
    """The body as it will be stored: control characters stripped, surrounding
    blanks trimmed, runs of blank lines shortened. The caller checks the length."""
    return _MANY_BLANK_LINES.sub("\n\n", strip_control_characters(text)).strip()


# Links to these sites (and their subdomains) open without the "you are leaving
# Chatsite" warning of the room page (static/js/chat-features.js); links to the
# site itself never warn.
LINK_HOSTS_WITHOUT_WARNING = (
    "wikipedia.org",
    "service-public.fr",
    "legifrance.gouv.fr",
    "europa.eu",
    "3018.fr",
)

# @name: the characters of a pseudonym (Django's username rule: letters,
# digits and @ . + - _), after an @ that does not follow a word or another @
# (so that an e-mail address is no mention).
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")


def mentioned_names(body: str) -> list[str]:
    """The @names of a body, in order, each once (letter case ignored). A
    name's trailing dots and dashes are punctuation ("merci @sacha."), kept
    as a second guess in case the pseudonym ends with them."""
    names, seen = [], set()
    for match in _MENTION.finditer(body):
        raw = match.group(1)
        for name in dict.fromkeys((raw, raw.rstrip(".-+"))):
            if name and name.lower() not in seen:
                seen.add(name.lower())
                names.append(name)
    return names


def reaction_emoji(value) -> str | None:
    """The emoji of the documented set that `value` names, or None."""
    if not isinstance(value, str):
        return None
    for emoji in REACTION_EMOJIS:
        if value in (emoji, emoji.replace("\ufe0f", "")):
            return emoji
    return None


def ordered_counts(counts: dict[str, int]) -> dict[str, int]:
    """Reaction counts in the set's display order, zeros left out."""
    return {emoji: counts[emoji] for emoji in REACTION_EMOJIS if counts.get(emoji)}


def excerpt(body: str, length: int = REPLY_EXCERPT_LENGTH) -> str:
    line = " ".join(body.split())
    return line if len(line) <= length else line[: length - 1].rstrip() + "…"


def reply_json(original) -> dict | None:
    """What a reply shows of its original: a deleted original says so, its text gone."""
    if original is None:
        return None
    deleted = original.deleted_at is not None
    return {
        "id": original.id,
        "author": original.author.username,
        "excerpt": "" if deleted else excerpt(original.body),
        "deleted": deleted,
    }


def message_json(message, *, reactions: dict[str, int] | None = None) -> dict:
    """A message as JSON (docs/protocol.md). Needs `room`, `author` and `reply_to`
    (with its author) loaded; the reaction counts come from `reactions`, else
    from `reaction_counts` set by rooms.queries.with_conversation_fields, else
    from one query."""
    if reactions is None:
        reactions = getattr(message, "reaction_counts", None)
    if reactions is None:
        from rooms.queries import reaction_counts  # text.py stays import-light

        reactions = reaction_counts([message.id]).get(message.id, {})
    return {
        "id": message.id,
        "room": message.room.slug,
        "author": message.author.username,
        "body": message.body,
        "created": message.created.isoformat(),
        "client_id": message.client_id,
        "edited": message.edited.isoformat() if message.edited else None,
        "reply_to": reply_json(message.reply_to) if message.reply_to_id else None,
        "mentions": list(message.mentions or []),
        "reactions": reactions,
    }
