"""What the scripts that write generated tables into docs/ share: the markers around a
table, rewriting between them, Django's set-up and the `--check` loop.

Used by scripts/retention_table.py and scripts/recipients_table.py (`make retention-tables`).
"""

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path


def marked(begin: str, end: str) -> re.Pattern:
    """The pattern of a generated table with its two marker lines."""
    return re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.DOTALL)


def rewrite_between(text: str, pattern: re.Pattern, table: str, name: str) -> str:
    """`text` with the one table between `pattern`'s markers replaced by `table`."""
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"expected exactly one pair of {name} markers")
    return pattern.sub(lambda _match: table, text)


def setup_django(root: Path) -> None:
    sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    # The tables come from the code's defaults, not from a deployment's settings: the
    # development settings are enough to import them (as `make messages` does).
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


def write_documents(root: Path, rewrites: dict[Path, Callable[[str], str]], argv: list[str]) -> int:
    """Rewrites each document with its function, or with `--check` only says which are
    stale and exits 1 (what the docs tests and CI rely on)."""
    check = "--check" in argv
    stale = []
    for path, rewrite in rewrites.items():
        text = path.read_text(encoding="utf-8")
        wanted = rewrite(text)
        if wanted != text:
            stale.append(path)
            if not check:
                path.write_text(wanted, encoding="utf-8")
    for path in stale:
        print(f"{path.relative_to(root)}: {'stale' if check else 'rewritten'}")
    return 1 if stale and check else 0
