"""The pseudonym history (name, from, to) of every account: opened at creation,
closed and reopened by each rename, the closure's included; the migration's backfill."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from accounts.models import AccountDeletionRequest, PseudonymHistory
from tests.accounts.test_signup import signup_data

pytestmark = pytest.mark.django_db


def _periods(user) -> list[tuple]:
    return list(
        PseudonymHistory.objects.filter(user=user).values_list("name", "valid_from", "valid_to")
    )


def test_every_new_account_opens_its_first_period(make_user):
    user = make_user("agathe")
    assert _periods(user) == [("agathe", user.date_joined, None)]
    assert PseudonymHistory.objects.get(user=user).pseudonym_key == user.pseudonym_key


def test_sign_up_opens_the_period_too(client):
    client.post("/accounts/signup/", signup_data(username="Zoe_75"))
    (period,) = PseudonymHistory.objects.filter(name="Zoe_75")
    assert period.valid_from == period.user.date_joined and period.valid_to is None


def test_a_rename_closes_one_period_and_opens_the_next(make_user):
    user = make_user("dom")
    renamed_at = timezone.now() + timedelta(minutes=1)
    user.username = "dominique"
    user.save()
    PseudonymHistory.objects.record(user, at=renamed_at)
    PseudonymHistory.objects.record(user, at=renamed_at + timedelta(hours=1))  # unchanged: no-op
    assert _periods(user) == [
        ("dom", user.date_joined, renamed_at),
        ("dominique", renamed_at, None),
    ]


def test_the_admin_records_a_rename(make_staff, make_user):
    from tests.conftest import staff_client

    admin = make_staff("admin", username="root")
    member = make_user("avant")
    client = staff_client(admin)
    url = f"/admin/accounts/user/{member.pk}/change/"
    client.post(url, {"access_reason": "Demande de changement de pseudonyme n° 12"})
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("password", "groups", "user_permissions")
    }
    data.update(username="apres", date_joined_0="", last_login_0="")
    data["date_of_birth"] = "1990-01-01"
    data["direct_messages_from"] = member.direct_messages_from
    response = client.post(url, {k: v for k, v in data.items() if not k.endswith("_0")})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [name for name, _start, _end in _periods(member)] == ["avant", "apres"]
    assert PseudonymHistory.objects.get(user=member, name="avant").valid_to is not None


def test_backfill_gives_every_existing_account_its_current_period(make_user):
    migration = importlib.import_module("accounts.migrations.0006_pseudonym_history")
    live, closed = make_user("vivant"), make_user("supprime-0123456789ab")
    closure = AccountDeletionRequest.objects.create(user=closed, completed_at=timezone.now())
    PseudonymHistory.objects.all().delete()  # as before the migration

    migration.backfill_history(apps, None)

    assert _periods(live) == [("vivant", live.date_joined, None)]
    # A closed account's anonymous name is held from its closure.
    assert _periods(closed) == [("supprime-0123456789ab", closure.requested_at, None)]
