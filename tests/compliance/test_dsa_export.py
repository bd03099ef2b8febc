"""export_statements: the DSA Transparency Database's API form, validated against
the copy of its schema kept in compliance/schemas/ (issue 16, item 4)."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from compliance import dsa_export
from compliance.transparency import Period
from core.refusals import Refused
from moderation import actions
from moderation.models import FilterAction, FilterKind, FilterRule, StatementOfReasons
from rooms import actions as room_actions
from rooms.models import RoomMembership
from tests.moderation.conftest import post_message

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def decisions(make_user, make_room, make_staff):
    """One decision of each kind the export meets."""
    moderator = make_staff()
    room = make_room(slug="general")
    author, reporter = make_user("auteur"), make_user("temoin")
    RoomMembership.objects.get_or_create(room=room, user=reporter)
    hateful = post_message(room, author, "propos haineux visant camille")
    report = actions.do_file_report(actor=reporter, category="hate", message=hateful)
    actions.do_decide_report(
        report,
        actor=moderator,
        decision="Injure raciste envers camille.",
        remove_message=True,
        legal_provision="L1881-33",
    )
    actions.do_issue_sanction(author, actor=moderator, kind="ban", reason="Récidive.", clause="R4")
    actions.do_issue_sanction(
        author, actor=moderator, kind="mute", room=room, duration_minutes=60, reason="Flood."
    )
    actions.do_issue_sanction(author, actor=moderator, kind="warn", reason="Attention.")
    FilterRule.objects.create(
        name="arnaques", kind=FilterKind.WORDS, pattern="viagra", action=FilterAction.BLOCK
    )
    with pytest.raises(Refused):
        room_actions.do_post_message(room, "viagra", actor=make_user("vendeur"))
    return {"moderator": moderator, "author": author}


def export(tmp_path, start=TODAY, end=TODAY):
    out = tmp_path / "statements.jsonl"
    call_command(
        "export_statements",
        "--start",
        start.isoformat(),
        "--end",
        end.isoformat(),
        "--out",
        str(out),
        stdout=StringIO(),
    )
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_every_line_is_a_valid_submission(decisions, tmp_path):
    lines = export(tmp_path)
    # The warning restricts nothing: it is not submitted.
    assert StatementOfReasons.objects.count() == 5 and len(lines) == 4
    for line in lines:
        assert dsa_export.validation_errors(line) == []
    assert len({line["puid"] for line in lines}) == 4
    assert all(line["puid"].startswith("chatsite-sor-") for line in lines)
    assert all(line["territorial_scope"][:2] == ["AT", "BE"] for line in lines)
    assert all(line["content_type"] == ["CONTENT_TYPE_TEXT"] for line in lines)


def test_the_fields_say_what_was_decided(decisions, tmp_path):
    removal, ban, mute, block = export(tmp_path)
    assert removal["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert removal["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert removal["illegal_content_legal_ground"].startswith("Loi du 29 juillet 1881, art. 33")
    assert removal["category"] == "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    assert removal["category_specification"] == ["KEYWORD_HATE_SPEECH"]
    assert removal["source_type"] == "SOURCE_ARTICLE_16"
    assert removal["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert removal["automated_detection"] == "No"

    assert ban["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert ban["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert "règle R4" in ban["incompatible_content_ground"]
    assert ban["decision_ground_reference_url"].endswith("/rules/#R4")
    assert ban["source_type"] == "SOURCE_VOLUNTARY"

    assert mute["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
    assert mute["end_date_service_restriction"] == mute["application_date"] or (
        mute["end_date_service_restriction"] > mute["application_date"]
    )

    assert block["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert block["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert block["automated_detection"] == "Yes"


def test_no_personal_data_leaves(decisions, tmp_path):
    lines = export(tmp_path)
    text = json.dumps(lines, ensure_ascii=False)
    # Neither the message, nor the moderator's text naming a person, nor pseudonyms.
    for personal in ("camille", "haineux", "auteur", "Récidive", "viagra", "vendeur"):
        assert personal not in text


def test_a_period_without_statements_writes_an_empty_file(decisions, tmp_path):
    assert export(tmp_path, date(2020, 1, 1), date(2020, 1, 31)) == []


def test_a_line_that_breaks_the_schema_fails_the_command_and_writes_nothing(decisions, tmp_path):
    broken = StatementOfReasons.objects.exclude(measure="warn").order_by("pk").last()
    StatementOfReasons.objects.filter(pk=broken.pk).update(territorial_scope=["US"])
    out = tmp_path / "statements.jsonl"
    with pytest.raises(CommandError) as failure:
        call_command(
            "export_statements",
            "--start",
            TODAY.isoformat(),
            "--end",
            TODAY.isoformat(),
            "--out",
            str(out),
        )
    message = str(failure.value)
    assert f"statement #{broken.pk}" in message
    assert "territorial_scope/0" in message and "'US' is not one of" in message
    assert not out.exists()
    assert list(tmp_path.glob(".export-*")) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "STATEMENT_CATEGORY_SPAM"}, "category"),
        ({"puid": "chatsite sor/1"}, "puid"),
        ({"application_date": "07/12/2026"}, "application_date"),
        ({"illegal_content_legal_ground": None}, "illegal_content_legal_ground"),
    ],
)
def test_the_schema_refuses_what_the_database_refuses(decisions, change, field):
    statement = StatementOfReasons.objects.filter(legal_provision="L1881-33").get()
    body = dsa_export.submission(statement)
    assert dsa_export.validation_errors(body) == []
    body.update(change)
    if change.get(field, 1) is None:
        del body[field]
    errors = dsa_export.validation_errors(body)
    assert errors, f"{field} should be refused"


def test_a_decision_needs_at_least_one_restriction(decisions):
    statement = StatementOfReasons.objects.filter(legal_provision="L1881-33").get()
    body = dsa_export.submission(statement)
    del body["decision_visibility"]
    assert dsa_export.validation_errors(body)


def test_the_period_is_checked(tmp_path):
    with pytest.raises(CommandError):
        export(tmp_path, date(2026, 2, 1), date(2026, 1, 1))


def test_period_filter_is_by_decision_day(decisions):
    statements = list(dsa_export.statements_in(Period(TODAY, TODAY)))
    assert len(statements) == 4
