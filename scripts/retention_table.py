"""Write the retention tables of docs/records-of-processing.md and docs/dpia.md, and the
table of docs/compliance.md that gives every model its retention class.

The periods come from the code's policy (`compliance.retention.DEFAULT_RETENTION_DAYS`,
the defaults `COMPLIANCE_RETENTION` overrides), so the documents cannot drift from it:
`tests/compliance/test_retention_docs.py` fails when a document's table differs from
what this script writes.

    make retention-tables                                # rewrite the tables
    .venv/bin/python scripts/retention_table.py --check  # exit 1 if a table is stale
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _doc_tables import marked, rewrite_between, setup_django, write_documents

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = (ROOT / "docs" / "records-of-processing.md", ROOT / "docs" / "dpia.md")
BEGIN = "<!-- retention-table:begin (scripts/retention_table.py writes this table) -->"
END = "<!-- retention-table:end -->"
MARKED = marked(BEGIN, END)
MODELS_DOCUMENT = ROOT / "docs" / "compliance.md"
MODELS_BEGIN = "<!-- retention-models:begin (scripts/retention_table.py writes this table) -->"
MODELS_END = "<!-- retention-models:end -->"
MODELS_MARKED = marked(MODELS_BEGIN, MODELS_END)

# The rules that are not a period of the policy (compliance.retention.OTHER_RULES).
RULE_DESCRIPTIONS = {
    "account": "while the account is open; its closure forgets or ends it, anonymises it "
    "(the account's row) or moves it to the restricted store (docs/compliance.md 3.)",
    "conversation": "as long as the room and its conversation (under the anonymised account "
    "after a closure); a deleted message's text `deleted_message_grace` after the deletion, "
    "its row `content_operations`",
    "ephemeral": "seconds: deleted when the socket closes or stops answering",
    "restricted": "until its `retain_until`, set at closure from `account_data`, "
    "`identity_data` or `content_operations`",
    "audit": "the audit trail's own rule: sealed fields for good, personal columns erased "
    "with the account data (docs/audit.md, Erasure)",
    "register": "the register of requisitions and holds, as proof of what was asked and "
    "handed over (GDPR Art. 5(2)); its export packages `requisition_packages`",
    "proof_of_erasure": "kept as proof the erasure was done: the anonymised account's id "
    "and dates only",
    "published": "published for good (DSA Art. 15, 24)",
    "no_personal_data": "no personal data",
}
# What each key of the policy covers, and from when its period runs (docs/compliance.md 1).
DESCRIPTIONS = {
    "content_operations": (
        "connection records (IP address, source port, time), age-attestation challenges, "
        "content operations (who created, edited or deleted which message, over which "
        "connection), rows of deleted messages (without their text)",
        "the connection, challenge, operation or deletion",
    ),
    "presence_intervals": (
        "presence intervals: who had which room open (a socket), from when to when "
        "(docs/moderation.md, Qui a pu le voir)",
        "the interval's end",
    ),
    "account_data": (
        "a closed account's pseudonyms, dates, password verifier, age-verification outcome "
        "(restricted store); the pseudonym's reservation; the audit trail's personal columns",
        "the account's closure",
    ),
    "identity_data": (
        "a closed account's e-mail addresses and date of birth (restricted store)",
        "the account's closure",
    ),
    "deleted_message_grace": (
        "the text (and earlier versions) of a deleted message",
        "the deletion",
    ),
    "pending_identity_documents": (
        "an identity document sent for age review that nobody reviewed",
        "the upload",
    ),
    "moderation_records": (
        "reports and their context snapshots, statements of reasons, appeals, notices, "
        "safety signals, held messages, threat escalations",
        "the case's closure",
    ),
    "sanctions": (
        "sanctions (warning, mute, kick, ban) with their reason; a permanent ban in force "
        "is kept while it applies",
        "the sanction's end (lifted or expired; a warning's issue)",
    ),
    "misuse_measures": (
        "DSA Art. 23 measures (warnings, suspensions of reporting or of the account) "
        "with the figures that crossed the threshold",
        "the measure's lapse (its window and any suspension over)",
    ),
    "moderator_notes": (
        "moderators' notes about an account (its case file; staff only, given to the person "
        "on an access request unless an Art. 23 restriction holds, docs/moderation.md)",
        "the note's last edit, and no report against the account or appeal of theirs open",
    ),
    "requisition_packages": (
        "a requisition's export package (its SHA-256 and the audit trail stay)",
        "the answer or refusal",
    ),
    "backups": (
        "database backups (`make backup`), with their manifests; older ones a legal hold "
        "needs are kept (docs/operations.md)",
        "the backup",
    ),
}


def _period(days: int) -> str:
    if days % 365 == 0:
        years = days // 365
        return f"{days} days ({years} year{'s' if years > 1 else ''})"
    return f"{days} days"


def render(policy_days: dict[str, int]) -> str:
    """The Markdown table, between its markers, for a policy's day counts."""
    if set(policy_days) != set(DESCRIPTIONS):
        raise ValueError(
            "retention keys without a description (or described but gone): "
            f"{sorted(set(policy_days) ^ set(DESCRIPTIONS))}; update DESCRIPTIONS"
        )
    lines = [
        BEGIN,
        "| `COMPLIANCE_RETENTION` key | data | default period | counted from |",
        "|---|---|---|---|",
    ]
    for key, days in policy_days.items():
        data, start = DESCRIPTIONS[key]
        lines.append(f"| `{key}` | {data} | {_period(days)} | {start} |")
    lines.append(END)
    return "\n".join(lines)


def rewrite(text: str, table: str) -> str:
    return rewrite_between(text, MARKED, table, "retention-table")


def render_models(classes: dict[str, str], policy_days: dict[str, int]) -> str:
    """The table of every model and its retention class, between its markers."""
    unknown = set(classes.values()) - set(policy_days) - set(RULE_DESCRIPTIONS)
    if unknown:
        raise ValueError(f"retention classes without a description: {sorted(unknown)}")
    lines = [MODELS_BEGIN, "| model | retention class | kept |", "|---|---|---|"]
    for label, rule in sorted(classes.items()):
        if rule in policy_days:
            kept = f"{_period(policy_days[rule])} from {DESCRIPTIONS[rule][1]}"
        else:
            kept = RULE_DESCRIPTIONS[rule]
        lines.append(f"| `{label}` | `{rule}` | {kept} |")
    lines.append(MODELS_END)
    return "\n".join(lines)


def rewrite_models(text: str, table: str) -> str:
    return rewrite_between(text, MODELS_MARKED, table, "retention-models")


def retention_classes() -> dict[str, str]:
    from compliance.retention import RETENTION_CLASSES

    return dict(RETENTION_CLASSES)


def policy_days() -> dict[str, int]:
    from compliance.retention import DEFAULT_RETENTION_DAYS

    return dict(DEFAULT_RETENTION_DAYS)


def main(argv: list[str]) -> int:
    setup_django(ROOT)
    table = render(policy_days())
    models_table = render_models(retention_classes(), policy_days())
    rewrites = {path: (lambda text: rewrite(text, table)) for path in DOCUMENTS}
    rewrites[MODELS_DOCUMENT] = lambda text: rewrite_models(text, models_table)
    return write_documents(ROOT, rewrites, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
