"""Issue 18, item 5: no decision or report starts on a chosen value. The API refuses
a missing category or an empty ground with the documented error; the admin forms
start blank and say what is missing; the room's dialogs start blank."""

import pytest

from moderation.models import Report, Sanction
from tests.conftest import grant_model_looks
from tests.moderation.conftest import post_message, verified_client
from tests.moderation.test_admin import QUEUE, file
from tests.moderation.test_api import call

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(make_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("membre"))
    return client


@pytest.mark.parametrize("category", [None, ""])
def test_a_report_without_a_category_is_refused(member_client, room, make_user, category):
    message = post_message(room, make_user("fautif"), "bonjour")
    data = {"message": message.pk} | ({} if category is None else {"category": category})
    response = call(member_client, "post", "/api/reports/", data)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid",
        "detail": "Choisissez le motif du signalement (category).",
    }
    assert not Report.objects.exists()


@pytest.mark.parametrize("ground", ["", None])
def test_a_sanction_with_an_empty_ground_is_refused(moderator, room, make_user, ground):
    make_user("fautif")
    data = {"user": "fautif", "kind": "warn", "room": None, "reason": "r", "ground": ground}
    response = call(verified_client(moderator), "post", "/api/moderation/sanctions/", data)
    assert response.status_code == 400
    assert response.json()["detail"] == "Choisissez le fondement de la décision (ground)."
    assert not Sanction.objects.exists()


def test_a_removal_with_an_empty_ground_is_refused(moderator, room, make_user):
    message = post_message(room, make_user("fautif"), "bonjour")
    url = f"/api/moderation/messages/{message.pk}/"
    response = call(verified_client(moderator), "delete", url, {"reason": "r", "ground": ""})
    assert response.status_code == 400
    message.refresh_from_db()
    assert message.deleted_at is None


def test_a_sanction_without_the_ground_key_keeps_the_contract(moderator, room, make_user):
    make_user("fautif")
    data = {"user": "fautif", "kind": "warn", "room": None, "reason": "r"}
    response = call(verified_client(moderator), "post", "/api/moderation/sanctions/", data)
    assert response.status_code == 201
    assert response.json()["ground"] == "terms_other"


def test_the_decision_form_starts_blank_and_names_what_is_missing(moderator, room, make_user):
    client = grant_model_looks(verified_client(moderator))
    report = file(room, make_user, "harassment")
    page = client.get(f"{QUEUE}{report.pk}/decide/")
    form = page.context_data["form"]
    assert form["outcome"].value() is None and form["ground"].value() is None
    html = page.content.decode()
    assert '<option value="" selected>— Choisissez une décision —</option>' in html
    assert '<option value="" selected>— Choisissez un fondement —</option>' in html
    response = client.post(f"{QUEUE}{report.pk}/decide/", {"reason": "motif"})
    assert response.context_data["form"].errors["outcome"] == ["Choisissez une décision."]
    response = client.post(f"{QUEUE}{report.pk}/decide/", {"outcome": "remove", "reason": "m"})
    assert response.context_data["form"].errors["ground"] == [
        "Choisissez le fondement de la décision."
    ]
    report.refresh_from_db()
    assert report.is_open
    # Dismissing needs no ground.
    response = client.post(f"{QUEUE}{report.pk}/decide/", {"outcome": "dismiss", "reason": "m"})
    assert response.status_code == 302


def test_the_sanction_form_starts_blank(moderator, make_user):
    client = grant_model_looks(verified_client(moderator))
    make_user("fautif")
    page = client.get("/admin/moderation/sanction/add/?user=fautif")
    html = page.content.decode()
    assert '<option value="" selected>— Choisissez une mesure —</option>' in html
    response = client.post("/admin/moderation/sanction/add/", {"user": "fautif", "reason": "r"})
    errors = response.context_data["form"].errors
    assert errors["kind"] == ["Choisissez une mesure."]
    assert errors["ground"] == ["Choisissez le fondement de la décision."]
    assert not Sanction.objects.exists()


def test_the_room_dialogs_start_blank(room, moderator):
    from django.utils import timezone

    moderator.age_verified_at = timezone.now()
    moderator.save(update_fields=["age_verified_at"])
    client = verified_client(moderator)
    html = client.get(room.get_absolute_url()).content.decode()
    assert '<option value="" selected>— Choisissez un motif —</option>' in html
    assert '<option value="" selected>— Choisissez un fondement —</option>' in html
    assert 'name="remove" checked' not in html


def test_the_public_notice_form_starts_blank(client):
    html = client.get("/notice/").content.decode()
    assert '<option value="" selected>— Choisissez un type —</option>' in html
