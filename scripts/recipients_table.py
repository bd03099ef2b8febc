"""Write the recipients table of docs/records-of-processing.md (processors and
authorities) from compliance/disclosures.py, the list the privacy page shows.

The rows are the privacy page's own strings in their English translation, and the
settings that name each provider, so the record cannot drift from the notice:
`tests/compliance/test_recipients_docs.py` fails when the table is stale.

    make retention-tables                                 # rewrites this table too
    .venv/bin/python scripts/recipients_table.py --check  # exit 1 if stale
"""

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = (ROOT / "docs" / "records-of-processing.md",)
BEGIN = "<!-- recipients-table:begin (scripts/recipients_table.py writes this table) -->"
END = "<!-- recipients-table:end -->"
MARKED = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.DOTALL)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render() -> str:
    from django.utils import translation

    from compliance.disclosures import recipients

    lines = [
        BEGIN,
        "| recipient | role | what it receives | when | named by |",
        "|---|---|---|---|---|",
    ]
    with translation.override("en"):
        for recipient in recipients():
            named = ", ".join(f"`{name}`" for name in recipient.settings_names) or "-"
            lines.append(
                f"| {_cell(recipient.who)} | {_cell(recipient.role)} | "
                f"{_cell(recipient.receives)} | {_cell(recipient.when)} | {named} |"
            )
    lines.append(END)
    return "\n".join(lines)


def rewrite(text: str, table: str) -> str:
    if len(MARKED.findall(text)) != 1:
        raise ValueError("expected exactly one pair of recipients-table markers")
    return MARKED.sub(lambda _match: table, text)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    table = render()
    stale = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        wanted = rewrite(text, table)
        if wanted != text:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(wanted, encoding="utf-8")
    for path in stale:
        print(f"{path.relative_to(ROOT)}: {'stale' if '--check' in argv else 'rewritten'}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
