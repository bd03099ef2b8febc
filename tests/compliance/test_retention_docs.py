"""The retention tables of the record of processing and the impact assessment follow the
code's policy: scripts/retention_table.py writes them, and a document whose table differs
from what the script would write fails here, so the documents cannot drift."""

import importlib.util
import re
from pathlib import Path

import pytest

from compliance.retention import DEFAULT_RETENTION_DAYS, RetentionPolicy

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "retention_table.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("retention_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


retention_table = _load_script()
DOCUMENTS = [pytest.param(path, id=path.name) for path in retention_table.DOCUMENTS]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_document_holds_the_table_the_script_writes(path):
    text = path.read_text(encoding="utf-8")
    table = retention_table.render(retention_table.policy_days())
    assert retention_table.rewrite(text, table) == text, (
        f"{path.relative_to(ROOT)}: retention table out of date; run "
        "`.venv/bin/python scripts/retention_table.py`"
    )


@pytest.mark.parametrize("path", DOCUMENTS)
def test_each_row_states_the_policys_period(path):
    """Read back from the document, independently of how the script formats a row."""
    text = path.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| (\d+) days", text, re.MULTILINE))
    assert {key: int(days) for key, days in rows.items()} == DEFAULT_RETENTION_DAYS


@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_changed_policy_makes_the_document_stale(path):
    text = path.read_text(encoding="utf-8")
    changed = {**DEFAULT_RETENTION_DAYS, "requisition_packages": 91}
    assert retention_table.rewrite(text, retention_table.render(changed)) != text


def test_every_key_of_the_policy_is_described():
    """A retention class added to the code without a line in the documents stops the script."""
    assert set(retention_table.DESCRIPTIONS) == set(DEFAULT_RETENTION_DAYS)
    assert set(retention_table.DESCRIPTIONS) == set(RetentionPolicy.__dataclass_fields__)
    with pytest.raises(ValueError, match="new_class"):
        retention_table.render({**DEFAULT_RETENTION_DAYS, "new_class": 10})


def test_the_script_finds_exactly_one_table_per_document():
    with pytest.raises(ValueError, match="exactly one"):
        retention_table.rewrite("no markers here", retention_table.render(DEFAULT_RETENTION_DAYS))


def test_check_mode_reports_a_stale_document(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "stale.md"
    stale.write_text(f"{retention_table.BEGIN}\n| old |\n{retention_table.END}\n")
    monkeypatch.setattr(retention_table, "DOCUMENTS", (stale,))
    monkeypatch.setattr(retention_table, "ROOT", tmp_path)
    assert retention_table.main(["--check"]) == 1
    assert "stale.md: stale" in capsys.readouterr().out
    assert "| old |" in stale.read_text()
    assert retention_table.main([]) == 0
    assert retention_table.main(["--check"]) == 0


# --- every model has a retention class (issue 16) ---------------------------------------------

APPS_WITH_PERSONAL_DATA = ("accounts", "rooms", "moderation", "compliance", "audit")


def _models():
    from django.apps import apps

    return {
        model._meta.label_lower
        for app in APPS_WITH_PERSONAL_DATA
        for model in apps.get_app_config(app).get_models()
        if not model._meta.proxy
    }


def test_every_model_of_our_apps_has_a_retention_class():
    """A model added without a period or a stated rule fails here."""
    from compliance.retention import OTHER_RULES, RETENTION_CLASSES

    assert set(RETENTION_CLASSES) == _models()
    for label, rule in RETENTION_CLASSES.items():
        assert rule in DEFAULT_RETENTION_DAYS or rule in OTHER_RULES, (label, rule)
    assert set(retention_table.RULE_DESCRIPTIONS) == set(OTHER_RULES)


def test_the_compliance_doc_holds_the_model_table_the_script_writes():
    text = retention_table.MODELS_DOCUMENT.read_text(encoding="utf-8")
    table = retention_table.render_models(
        retention_table.retention_classes(), retention_table.policy_days()
    )
    assert retention_table.rewrite_models(text, table) == text, (
        "docs/compliance.md: the table of retention classes is out of date; run "
        "`make retention-tables`"
    )
    rows = dict(re.findall(r"^\| `(\w+\.\w+)` \| `(\w+)` \|", text, re.MULTILINE))
    assert rows == retention_table.retention_classes()


def test_a_model_with_an_unknown_class_stops_the_script():
    with pytest.raises(ValueError, match="nowhere"):
        retention_table.render_models({"rooms.room": "nowhere"}, DEFAULT_RETENTION_DAYS)
