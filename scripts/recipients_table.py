"""Write the recipients table of docs/records-of-processing.md (processors and
authorities) from compliance/disclosures.py, the list the privacy page shows.

The rows are the privacy page's own strings in their English translation, and the
settings that name each provider, so the record cannot drift from the notice:
`tests/compliance/test_recipients_docs.py` fails when the table is stale.

    make retention-tables                                 # rewrites this table too
    .venv/bin/python scripts/recipients_table.py --check  # exit 1 if stale
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _doc_tables import marked, rewrite_between, setup_django, write_documents

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = (ROOT / "docs" / "records-of-processing.md",)
BEGIN = "<!-- recipients-table:begin (scripts/recipients_table.py writes this table) -->"
END = "<!-- recipients-table:end -->"
MARKED = marked(BEGIN, END)


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
    return rewrite_between(text, MARKED, table, "recipients-table")


def main(argv: list[str]) -> int:
    setup_django(ROOT)
    table = render()
    return write_documents(
        ROOT, {path: lambda text: rewrite(text, table) for path in DOCUMENTS}, argv
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
