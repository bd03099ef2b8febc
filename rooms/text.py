"""Cleaning of message bodies and the message JSON of docs/protocol.md."""

import re
import unicodedata

# Line breaks and tabs are kept (multi-line messages); every other control
# character goes, and so do the bidirectional overrides that can make a text
# read differently from what it is.
_KEPT = {"\n", "\t"}
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def strip_control_characters(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        char
        for char in text
        if char in _KEPT
        or (unicodedata.category(char) not in ("Cc", "Cs") and char not in _BIDI_CONTROLS)
    )


def clean_body(text: str) -> str:
    """The body as it will be stored: control characters stripped, surrounding
    blanks trimmed, runs of blank lines shortened. The caller checks the length."""
    return _MANY_BLANK_LINES.sub("\n\n", strip_control_characters(text)).strip()


def message_json(message) -> dict:
    """A message as JSON (docs/protocol.md). Needs `room` and `author` loaded."""
    return {
        "id": message.id,
        "room": message.room.slug,
        "author": message.author.username,
        "body": message.body,
        "created": message.created.isoformat(),
        "client_id": message.client_id,
    }
