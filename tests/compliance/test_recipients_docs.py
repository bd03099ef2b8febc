"""The recipients table of the record of processing is the privacy page's list
(compliance/disclosures.py) in English: scripts/recipients_table.py writes it, and a
stale table fails here, so the notice and the record cannot drift."""

import importlib.util
from pathlib import Path

from compliance import disclosures

ROOT = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "recipients_table", ROOT / "scripts" / "recipients_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


recipients_table = _load_script()


def test_the_record_holds_the_table_the_script_writes():
    for path in recipients_table.DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        assert recipients_table.rewrite(text, recipients_table.render()) == text, (
            f"{path.relative_to(ROOT)}: recipients table out of date; run `make retention-tables`"
        )


def test_the_table_names_every_processor_and_disclosure():
    table = recipients_table.render()
    for recipient in disclosures.recipients():
        for name in recipient.settings_names:
            assert f"`{name}`" in table
    assert "Article 18 of the Digital Services Act" in table
    assert "Age verification provider" in table and "E-mail delivery provider" in table


def test_a_new_recipient_makes_the_record_stale(monkeypatch):
    text = recipients_table.DOCUMENTS[0].read_text(encoding="utf-8")
    extra = disclosures.Recipient("cdn", "CDN", "", "processor", "pages", "always", ("CDN_URL",))
    monkeypatch.setattr(disclosures, "recipients", lambda: [*disclosures.processors(), extra])
    assert recipients_table.rewrite(text, recipients_table.render()) != text
