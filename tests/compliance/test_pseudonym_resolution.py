"""Requisition subjects resolved by (name, period): the account(s) that held the
pseudonym then, live or in the restricted store, with a warning when several
did; never simply today's holder (issue 16, finding 1)."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from accounts.actions import do_forget_reserved_pseudonyms, do_request_account_deletion
from accounts.models import PseudonymHistory, ReservedPseudonym
from audit.events import AuditEvent
from compliance import queries
from compliance.actions import resolve_named_pseudonyms
from compliance.models import (
    LegalRequest,
    RestrictedCategory,
    RestrictedRecord,
    SubjectSource,
)
from core.refusals import RefusalCode, Refused
from tests.compliance.conftest import audit_entries, verified_client

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def two_camilles(make_user):
    """The reported case: "camille" closed, the name freed, a new "camille" signed up."""
    start = timezone.now()
    old = make_user("camille", date_joined=start - 60 * DAY)
    do_request_account_deletion(old, actor=old)
    closed_at = old.deletion_requests.get().requested_at
    # Before this issue a closure freed the name at once: a newcomer took it.
    do_forget_reserved_pseudonyms(
        ReservedPseudonym.objects.values_list("pk", flat=True), actor=None, reason="test"
    )
    new = make_user("camille", date_joined=closed_at + 10 * DAY)
    return old, new, closed_at


def test_an_earlier_period_names_the_closed_account_not_todays_holder(two_camilles):
    old, _new, closed_at = two_camilles
    (holder,) = queries.resolve_pseudonym("camille", closed_at - 30 * DAY, closed_at - DAY)
    assert (holder.user_id, holder.held_name, holder.source) == (
        old.pk,
        "camille",
        SubjectSource.RESTRICTED,
    )
    assert holder.held_to == closed_at


def test_a_later_period_names_the_new_holder(two_camilles):
    _old, new, closed_at = two_camilles
    (holder,) = queries.resolve_pseudonym("Camille", closed_at + 20 * DAY, closed_at + 30 * DAY)
    assert (holder.user_id, holder.source, holder.held_to) == (new.pk, SubjectSource.LIVE, None)


def test_a_period_spanning_both_is_refused_with_a_warning_naming_both(two_camilles, open_request):
    old, new, closed_at = two_camilles
    with pytest.raises(Refused) as refused:
        open_request(
            named_pseudonyms=["camille"],
            period_start=closed_at - 30 * DAY,
            period_end=closed_at + 30 * DAY,
        )
    assert refused.value.code == RefusalCode.AMBIGUOUS
    assert f"n° {old.pk}" in refused.value.detail and f"n° {new.pk}" in refused.value.detail
    assert not LegalRequest.objects.exists()  # nothing recorded, nobody held


def test_an_officer_who_confirms_gets_both_accounts_flagged(two_camilles, open_request):
    old, new, closed_at = two_camilles
    legal_request = open_request(
        named_pseudonyms=["camille"],
        allow_ambiguous=True,
        period_start=closed_at - 30 * DAY,
        period_end=closed_at + 30 * DAY,
    )
    subjects = list(legal_request.subjects.order_by("held_from"))
    assert [(s.user_id, s.source, s.ambiguous) for s in subjects] == [
        (old.pk, SubjectSource.RESTRICTED, True),
        (new.pk, SubjectSource.LIVE, True),
    ]
    assert set(legal_request.accounts.all()) == {old, new}
    assert {hold.user_id for hold in legal_request.holds.all()} == {old.pk, new.pk}
    (entry,) = audit_entries(AuditEvent.LEGAL_REQUEST_OPENED)
    assert entry.details["ambiguous"] == ["camille"]
    assert entry.details["named"] == {"camille": [old.pk, new.pk]}


def test_a_name_nobody_held_in_the_period_is_refused(make_user):
    make_user("tardif")  # signed up today
    now = timezone.now()
    with pytest.raises(Refused) as refused:
        resolve_named_pseudonyms(["tardif"], now - 60 * DAY, now - 30 * DAY, allow_ambiguous=False)
    assert refused.value.code == RefusalCode.NOT_FOUND


def test_a_renamed_account_is_found_by_its_former_name(make_user):
    user = make_user("dom", date_joined=timezone.now() - 60 * DAY)
    renamed_at = timezone.now() - 10 * DAY
    user.username = "dominique"
    user.save()
    PseudonymHistory.objects.record(user, at=renamed_at)
    (holder,) = queries.resolve_pseudonym("dom", renamed_at - 5 * DAY, renamed_at - DAY)
    assert (holder.user_id, holder.held_to) == (user.pk, renamed_at)
    assert queries.resolve_pseudonym("dom", renamed_at + DAY, timezone.now()) == []


def test_the_admin_form_shows_the_warning_before_anything_is_recorded(two_camilles, officer):
    old, _new, closed_at = two_camilles
    client = verified_client(officer)
    url = "/admin/compliance/legalrequest/"
    client.post(url, {"access_reason": "Réquisition PV-2026-0001 du parquet"})
    data = {
        "reference": "PV-75-2026-200",
        "authority": "Parquet de Paris",
        "legal_basis": "cpp_60_1",
        "received_at": "2026-11-20T09:00",
        "deadline": "2026-11-23T18:00",
        "accounts": "camille",
        "period_start": (closed_at - 30 * DAY).strftime("%Y-%m-%dT%H:%M"),
        "period_end": (closed_at + 30 * DAY).strftime("%Y-%m-%dT%H:%M"),
        "data_categories": ["identity"],
        "assigned_officer": officer.pk,
    }
    response = client.post(f"{url}add/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "plusieurs comptes" in page and f"n° {old.pk}" in page
    assert not LegalRequest.objects.exists()

    response = client.post(f"{url}add/", {**data, "allow_ambiguous": "on"})
    assert response.status_code == 302
    legal_request = LegalRequest.objects.get()
    detail = client.get(f"{url}{legal_request.pk}/change/").content.decode()
    assert "plusieurs comptes ont porté ce pseudonyme" in detail


def test_backfill_gives_accounts_closed_before_the_history_their_pseudonym(make_user):
    """An account closed before this change kept its name only in its account
    record; the migration makes it a pseudonym record, found by period."""
    migration = importlib.import_module(
        "compliance.migrations.0003_named_subjects_pseudonym_records"
    )
    old = make_user("camille", date_joined=timezone.now() - 60 * DAY)
    closed_at = timezone.now() - 5 * DAY
    RestrictedRecord.objects.create(
        category=RestrictedCategory.ACCOUNT,
        user=old,
        occurred_at=closed_at,
        retain_until=closed_at + 365 * DAY,
        data={
            "username": "camille",
            "date_joined": old.date_joined.isoformat(),
            "closed_at": closed_at.isoformat(),
        },
    )
    PseudonymHistory.objects.filter(user=old).delete()  # as an account closed back then

    migration.backfill_pseudonym_records(apps, None)
    migration.backfill_pseudonym_records(apps, None)  # idempotent

    (holder,) = queries.resolve_pseudonym("camille", closed_at - 10 * DAY, closed_at - DAY)
    assert (holder.user_id, holder.source, holder.held_to) == (
        old.pk,
        SubjectSource.RESTRICTED,
        closed_at,
    )
