"""What the law keeps after a closure (décret 2021-1362, art. 1): the password
verifier and the pseudonyms one year, the civil identity five; the pseudonym
stays reserved as long as the account data, then the purge frees it."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

from accounts.actions import do_request_account_deletion
from accounts.models import ReservedPseudonym
from accounts.pseudonyms import validate_pseudonym_is_free
from audit.events import AuditEvent
from compliance import actions
from compliance.models import RestrictedCategory, RestrictedRecord
from tests.compliance.conftest import audit_entries
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

YEAR = timedelta(days=365)


def _categories(user) -> list[str]:
    return sorted(RestrictedRecord.objects.filter(user=user).values_list("category", flat=True))


def _close(user):
    do_request_account_deletion(user, actor=user)
    return user.deletion_requests.get().requested_at


def test_closure_keeps_the_password_verifier_and_every_pseudonym(make_user):
    camille = make_user("camille")
    closed_at = _close(camille)

    account = RestrictedRecord.objects.get(user=camille, category=RestrictedCategory.ACCOUNT)
    # The verifier, not the password: it still checks the old password.
    assert check_password(DEFAULT_PASSWORD, account.data["password"])
    camille.refresh_from_db()
    assert not camille.has_usable_password()  # gone from the account itself
    (pseudonym,) = RestrictedRecord.objects.filter(
        user=camille, category=RestrictedCategory.PSEUDONYM
    )
    assert pseudonym.data["name"] == "camille"
    assert pseudonym.data["to"] == closed_at.isoformat()
    assert pseudonym.retain_until == account.retain_until == closed_at + YEAR
    reservation = ReservedPseudonym.objects.get(user=camille)
    assert reservation.reserved_at == closed_at


def test_purged_after_their_periods_and_the_name_freed_after_a_year(make_user):
    camille = make_user("camille")
    closed_at = _close(camille)

    # A day short of a year: still reserved, everything still kept.
    summary = actions.do_purge_expired(actor=None, now=closed_at + YEAR - timedelta(days=1))
    assert summary.counts["reserved_pseudonyms"] == 0
    with pytest.raises(ValidationError):
        validate_pseudonym_is_free("Camille")
    assert RestrictedCategory.PSEUDONYM in _categories(camille)

    # A day past: verifier, pseudonyms and reservation go; the civil identity stays.
    summary = actions.do_purge_expired(actor=None, now=closed_at + YEAR + timedelta(days=1))
    assert summary.counts["reserved_pseudonyms"] == 1
    assert _categories(camille) == [RestrictedCategory.IDENTITY]
    validate_pseudonym_is_free("Camille")  # a newcomer may now take it
    (entry,) = audit_entries(AuditEvent.RESERVED_PSEUDONYMS_FORGOTTEN)
    assert entry.details["reservations"] == 1

    actions.do_purge_expired(actor=None, now=closed_at + 5 * YEAR + timedelta(days=1))
    assert _categories(camille) == []


def test_a_hold_keeps_the_reservation_and_the_records(make_user, open_request):
    camille = make_user("camille")
    closed_at = _close(camille)
    open_request(accounts=[camille])

    actions.do_purge_expired(actor=None, now=closed_at + 2 * YEAR)
    assert ReservedPseudonym.objects.filter(user=camille).exists()
    assert RestrictedCategory.PSEUDONYM in _categories(camille)
    with pytest.raises(ValidationError):
        validate_pseudonym_is_free("camille")
