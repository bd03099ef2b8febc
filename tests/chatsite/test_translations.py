"""The English catalogue (locale/en/LC_MESSAGES/django.po) is complete, sound and compiled.

French is the source language: every msgid is French and locale/en holds the one English
catalogue of the whole project (it takes precedence over any app's own locale/).

These tests fail when a translatable string in the sources is missing from the catalogue,
when an entry is untranslated or fuzzy, when a translation loses a placeholder, or when
django.mo was not recompiled after django.po changed. To refresh the catalogue:

    DEBUG=1 .venv/bin/python manage.py makemessages -l en --no-obsolete \
        --ignore=.venv --ignore=var --ignore=bench --ignore=tests --ignore=node_modules \
        --ignore='*/locale'
    # translate the new or fuzzy entries of locale/en/LC_MESSAGES/django.po, drop `#, fuzzy`
    # (--ignore='*/locale' keeps makemessages from sending an app's strings to an app-level
    # locale/ if one ever reappears; the project has none and the tests below keep it so)
    DEBUG=1 .venv/bin/python manage.py compilemessages -l en --ignore=.venv --ignore=var

The catalogue is parsed with the standard library only; the sources are scanned the way
makemessages reads them (Django's templatize for templates, the AST for Python) so that no
xgettext run is needed.
"""

import ast
import gettext as gettext_module
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.html import escape
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
PO_PATH = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

REFRESH_HINT = (
    "refresh the catalogue: see the commands in tests/chatsite/test_translations.py's docstring"
)

# What makemessages scans: every .py, .html and .txt under the project root except these.
SKIPPED_DIRS = {".venv", "var", "bench", "tests", "node_modules", "locale", "__pycache__"}
TEMPLATE_SUFFIXES = {".html", ".txt"}


# --- the catalogue, parsed with the standard library -------------------------------------


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str | None = None
    msgid_plural: str | None = None
    msgstr: str | None = None
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid or "")

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr or ""]
        return [self.msgstr_plural.get(i, "") for i in range(max(2, len(self.msgstr_plural)))]

    def __str__(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
_ESCAPES |= {"f": "\f", "v": "\v"}
_KEYWORD_LINE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(text: str) -> str:
    text = text.strip()
    assert len(text) >= 2 and text[0] == text[-1] == '"', f"not a PO string: {text!r}"
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    entry: Entry | None = None
    last: tuple[str, int | None] | None = None

    def close() -> None:
        nonlocal entry, last
        if entry is not None and entry.msgid is not None:
            entries.append(entry)
        entry, last = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            close()
            continue
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if line.startswith("|"):
                continue
        if line.startswith("#"):
            if entry is not None and entry.msgid is not None and last is not None:
                close()  # a comment after a complete entry starts the next one
            entry = entry or Entry(line=number)
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        match = _KEYWORD_LINE.match(line)
        if match:
            keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if entry is not None and entry.msgid is not None and keyword in ("msgctxt", "msgid"):
                close()
            entry = entry or Entry(line=number)
            entry.obsolete = entry.obsolete or obsolete
            if index is not None:
                entry.msgstr_plural[int(index)] = value
                last = ("msgstr_plural", int(index))
            else:
                setattr(entry, keyword, value)
                last = (keyword, None)
        elif line.startswith('"') and entry is not None and last is not None:
            name, index = last
            if index is not None:
                entry.msgstr_plural[index] += _unquote(line)
            else:
                setattr(entry, name, getattr(entry, name) + _unquote(line))
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    close()
    return entries


@cache
def catalogue() -> tuple[Entry, list[Entry]]:
    """The header and the live (non-obsolete) messages of the English catalogue."""
    assert PO_PATH.exists(), f"{PO_PATH} is missing: {REFRESH_HINT}"
    entries = [entry for entry in parse_po(PO_PATH) if not entry.obsolete]
    headers = [entry for entry in entries if entry.msgid == "" and entry.msgctxt is None]
    assert len(headers) == 1, "the catalogue must have exactly one header entry"
    return headers[0], [entry for entry in entries if entry.msgid != ""]


def messages() -> list[Entry]:
    return catalogue()[1]


# --- placeholders ------------------------------------------------------------------------

# printf-style: %(name)s, %(seconds).1f, %s, %d... (%% is a literal percent sign).
_PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[a-zA-Z%])"
)
_BRACE = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")
# HTML elements that a message may carry (a "<numéro>" in prose is not one).
_TAG = re.compile(
    r"</?(a|abbr|b|br|button|cite|code|del|em|i|ins|kbd|label|li|mark|ol|p|q|s|samp|small|"
    r"span|strong|sub|sup|time|u|ul|var)(?=[\s/>])"
)


def placeholders(text: str, flags: set[str]) -> tuple[set[str], list[str]]:
    """Named placeholders (a set: order may change) and positional ones (a list: it may not)."""
    named: set[str] = set()
    positional: list[str] = []
    if "python-format" in flags:
        for match in _PERCENT.finditer(text):
            if match["type"] == "%":
                continue
            if match["name"] is not None:
                named.add(match.group(0))
            else:
                positional.append(match.group(0))
    if "python-brace-format" in flags:
        for match in _BRACE.finditer(text):
            if match.group(1) == "":
                positional.append(match.group(0))
            else:
                named.add(match.group(0))
    return named, positional


def _edges(text: str) -> tuple[bool, bool, bool, bool]:
    return (
        text[:1].isspace(),
        text[-1:].isspace(),
        text.startswith("\n"),
        text.endswith("\n"),
    )


# --- the sources, scanned as makemessages scans them -------------------------------------

PYTHON_KEYWORDS = {
    # name: (index of msgctxt or None, index of msgid, index of msgid_plural or None)
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
# templatize() turns every translatable string of a template into one of these calls.
_TEMPLATE_CALL = re.compile(
    r"\b(?P<name>npgettext|pgettext|ngettext|gettext|_)\("
    r"(?P<args>(?:\s*u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\s*,?)+)"
)
_LITERAL = re.compile(r"u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")


@dataclass(frozen=True)
class SourceMessage:
    where: str
    msgctxt: str | None
    msgid: str
    msgid_plural: str | None


def source_files() -> list[Path]:
    found = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = sorted(
            name for name in subdirectories if name not in SKIPPED_DIRS and not name.startswith(".")
        )
        for name in sorted(files):
            if name.startswith(".") or name.endswith("~"):
                continue
            path = Path(directory, name)
            if path.suffix == ".py" or path.suffix in TEMPLATE_SUFFIXES:
                found.append(path)
    return found


def _call_message(where: str, name: str, args: list[str | None]) -> SourceMessage | None:
    ctxt_index, msgid_index, plural_index = PYTHON_KEYWORDS[name]
    wanted = [i for i in (ctxt_index, msgid_index, plural_index) if i is not None]
    if len(args) <= max(wanted) or any(args[i] is None for i in wanted):
        return None  # not a literal: makemessages cannot extract it either
    return SourceMessage(
        where,
        args[ctxt_index] if ctxt_index is not None else None,
        args[msgid_index] or "",
        args[plural_index] if plural_index is not None else None,
    )


def python_messages(path: Path) -> list[SourceMessage]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in PYTHON_KEYWORDS:
            continue
        args = [
            arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
            for arg in node.args
        ]
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        message = _call_message(where, name, args)
        if message is not None:
            found.append(message)
    return found


def template_messages(path: Path) -> list[SourceMessage]:
    found = []
    relative = str(path.relative_to(ROOT))
    text = templatize(path.read_text(encoding="utf-8"), origin=relative)
    for match in _TEMPLATE_CALL.finditer(text):
        args = [ast.literal_eval(literal) for literal in _LITERAL.findall(match["args"])]
        where = f"{relative}:{text.count(chr(10), 0, match.start()) + 1}"
        message = _call_message(where, match["name"], args)
        if message is not None:
            found.append(message)
    return found


# --- the tests ---------------------------------------------------------------------------


def test_header_declares_english_utf8_and_two_plural_forms():
    header, _entries = catalogue()
    fields = dict(line.split(":", 1) for line in (header.msgstr or "").splitlines() if ":" in line)
    fields = {name.strip(): value.strip() for name, value in fields.items()}
    assert fields.get("Language") == "en", "the header needs `Language: en`"
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8", "the header needs UTF-8"
    assert fields.get("Plural-Forms") == "nplurals=2; plural=(n != 1);", "wrong Plural-Forms"
    assert "fuzzy" not in header.flags, "drop the header's `#, fuzzy` flag"


def test_every_message_is_translated_and_none_is_fuzzy():
    fuzzy = [str(entry) for entry in messages() if "fuzzy" in entry.flags]
    empty = [str(entry) for entry in messages() if not all(entry.translations)]
    assert not fuzzy, "fuzzy entries (check, retranslate, drop the flag):\n" + "\n".join(fuzzy)
    assert not empty, "untranslated entries:\n" + "\n".join(empty)


def test_messages_are_unique():
    keys = [entry.key for entry in messages()]
    duplicates = sorted({key for key in keys if keys.count(key) > 1}, key=str)
    assert not duplicates, f"duplicate msgids: {duplicates}"


def test_translations_keep_placeholders_tags_and_edges():
    problems = []
    for entry in messages():
        msgid = entry.msgid or ""
        sources = [msgid] if entry.msgid_plural is None else [msgid, entry.msgid_plural]
        allowed = set().union(*(placeholders(text, entry.flags)[0] for text in sources))
        for index, translated in enumerate(entry.translations):
            source = sources[min(index, len(sources) - 1)]
            named, positional = placeholders(source, entry.flags)
            got_named, got_positional = placeholders(translated, entry.flags)
            if not named <= got_named:
                problems.append(f"{entry}: loses {sorted(named - got_named)}")
            if not got_named <= allowed:
                problems.append(f"{entry}: unknown {sorted(got_named - allowed)}")
            if got_positional != positional:
                problems.append(f"{entry}: positional {positional} became {got_positional}")
            if sorted(_TAG.findall(source)) != sorted(_TAG.findall(translated)):
                problems.append(f"{entry}: HTML tags differ in {translated!r}")
            if ("{{" in translated or "{%" in translated) and not (
                "{{" in source or "{%" in source
            ):
                problems.append(f"{entry}: template syntax in {translated!r} (use %(name)s)")
            if _edges(source) != _edges(translated):
                problems.append(f"{entry}: leading/trailing whitespace differs in {translated!r}")
    assert not problems, "\n".join(problems)


def test_no_app_keeps_a_catalogue_of_its_own():
    # An app's locale/ would shadow nothing (LOCALE_PATHS wins) and drift; worse, makemessages
    # would send that app's new strings there instead of to the project catalogue.
    app_catalogues = [
        str(path.relative_to(ROOT)) for path in ROOT.glob("*/locale/*/LC_MESSAGES/*.po")
    ]
    assert not app_catalogues, (
        f"merge these into {PO_PATH.relative_to(ROOT)}, then delete them: {app_catalogues}"
    )


def test_every_translatable_string_of_the_sources_is_in_the_catalogue():
    known = {entry.key: entry for entry in messages()}
    missing = []
    for path in source_files():
        scan = python_messages if path.suffix == ".py" else template_messages
        found = scan(path)
        for message in found:
            entry = known.get((message.msgctxt, message.msgid))
            if entry is None:
                missing.append(f"{message.where}: {message.msgid!r}")
            elif message.msgid_plural is not None and entry.msgid_plural != message.msgid_plural:
                missing.append(f"{message.where}: plural {message.msgid_plural!r}")
    assert not missing, f"not in {PO_PATH} ({REFRESH_HINT}):\n" + "\n".join(missing)


def test_compiled_catalogue_matches_the_po_file():
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run compilemessages"
    with MO_PATH.open("rb") as handle:
        compiled = gettext_module.GNUTranslations(handle)
    expected: dict[object, str] = {}
    for entry in messages():
        if "fuzzy" in entry.flags or not all(entry.translations):
            continue
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected[msgid] = entry.msgstr or ""
        else:
            expected.update({(msgid, i): text for i, text in enumerate(entry.translations)})
    actual = {key: value for key, value in compiled._catalog.items() if key != ""}
    stale = sorted(str(key) for key in expected.keys() ^ actual.keys())
    stale += sorted(
        str(key) for key in expected.keys() & actual.keys() if expected[key] != actual[key]
    )
    assert not stale, "django.mo is stale, run compilemessages; differing:\n" + "\n".join(
        stale[:20]
    )


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_msgfmt_accepts_the_catalogue_and_compiles_it_to_django_mo():
    result = subprocess.run(
        ["msgfmt", "--check", "-o", "-", str(PO_PATH)], capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == MO_PATH.read_bytes(), "django.mo is stale: run compilemessages"


def test_django_serves_every_translation_of_the_project_catalogue():
    wrong = []
    with translation.override("en"):
        for entry in messages():
            if entry.msgid_plural is None:
                if entry.msgctxt is None:
                    got = [translation.gettext(entry.msgid)]
                else:
                    got = [translation.pgettext(entry.msgctxt, entry.msgid)]
            elif entry.msgctxt is None:
                got = [translation.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
            else:
                got = [
                    translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    for n in (1, 2)
                ]
            if got != entry.translations[: len(got)]:
                wrong.append(f"{entry}: Django gives {got}")
    assert not wrong, "\n".join(wrong[:20])


def _translation_of(msgid: str) -> str:
    return next(entry.msgstr for entry in messages() if entry.key == (None, msgid))


HOME_TITLE = "Discuter librement, entre adultes, en sécurité"


# The home page reads the rooms' figures: these two need the database.
@pytest.mark.django_db
def test_home_page_is_french_by_default(client):
    html = client.get("/").content.decode()
    assert escape(HOME_TITLE) in html
    assert escape(_translation_of(HOME_TITLE)) not in html


@pytest.mark.django_db
def test_home_page_is_english_when_the_browser_asks(client):
    html = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert escape(_translation_of(HOME_TITLE)) in html
    assert escape(_translation_of("Aller au contenu")) in html  # from base.html
    assert escape(HOME_TITLE) not in html
