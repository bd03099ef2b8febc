"""The right person, over time (issue 16, "Done when" 1): an account posts from two
addresses, is closed, its pseudonym is refused to a newcomer, and a requisition
for the earlier period names the closed account and packages each message with
the address and port that carried it."""

import json
import zipfile
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.models import ConnectionKind, ConnectionRecord, ReservedPseudonym
from chatsite.asgi import application
from compliance import actions
from compliance.models import SubjectSource
from rooms.models import ContentOperation, Message
from tests.conftest import DEFAULT_PASSWORD
from tests.rooms.conftest import ORIGIN, RECEIVE_TIMEOUT, Socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()
HOME = ("203.0.113.7", 40123)
PHONE = ("198.51.100.23", 52002)  # another network, another port


async def _socket(user, slug: str, client: tuple[str, int]) -> Socket:
    communicator = WebsocketCommunicator(
        application,
        f"/ws/rooms/{slug}/",
        headers=[
            ORIGIN,
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={await session_cookie(user)}".encode()),
        ],
    )
    # The peer's address as daphne puts it in the scope (set before the app runs).
    communicator.scope["client"] = list(client)
    connected, _ = await communicator.connect(timeout=RECEIVE_TIMEOUT)
    assert connected
    return Socket(communicator)


async def _post_from_two_addresses(user, slug: str) -> dict[str, int]:
    """Posts once from each address, then edits the first post from the second
    address and deletes the second post from the first: each operation with its
    own carrier. Returns the message ids by body."""
    home = await _socket(user, slug, HOME)
    phone = await _socket(user, slug, PHONE)
    try:
        await home.post("posté de la maison", "h-1")
        (from_home,) = await home.messages(1)
        await phone.receive_type("message.new")
        await phone.post("posté du téléphone", "p-1")
        (from_phone,) = await phone.messages(1)
        await home.receive_type("message.new")
        await phone.send({"type": "message.edit", "id": from_home["id"], "body": "corrigé"})
        await home.receive_type("message.updated")
        await home.send({"type": "message.delete", "id": from_phone["id"]})
        await phone.receive_type("message.deleted")
    finally:
        await home.close()
        await phone.close()
    return {"home": from_home["id"], "phone": from_phone["id"]}


def test_a_requisition_for_the_earlier_period_names_the_closed_account_and_its_addresses(
    make_user, make_room, officer, second_officer, open_request, tmp_path
):
    before = timezone.now() - timedelta(hours=1)
    camille = make_user("camille", date_joined=before - timedelta(days=30))
    room = make_room("general")

    ids = async_to_sync(_post_from_two_addresses)(camille, room.slug)

    # Each socket's connection record, with its own address and port.
    sockets = ConnectionRecord.objects.filter(user=camille, kind=ConnectionKind.WEBSOCKET)
    assert sorted((r.ip_address, r.port) for r in sockets) == sorted([HOME, PHONE])
    record_ids = {record.ip_address: record.pk for record in sockets}

    # Closed by the member (/accounts/delete/): anonymised, its pseudonym reserved.
    member = Client()
    member.force_login(camille)
    response = member.post("/accounts/delete/", {"password": DEFAULT_PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    camille.refresh_from_db()
    assert camille.username.startswith("supprime-")
    assert ReservedPseudonym.objects.filter(user=camille).exists()

    # A newcomer cannot take the name, nor a look-alike of it.
    for name in ("camille", "Camille", "carnille"):  # "rn" looks like "m" (UTS #39)
        response = Client().post(
            "/accounts/signup/",
            {
                "email": "nouvelle@example.org",
                "username": name,
                "password1": "Tr3s-long-mot-de-passe!",
                "password2": "Tr3s-long-mot-de-passe!",
                "date_of_birth": "1995-06-14",
            },
        )
        assert response.status_code == 200, name  # the form again, with its error
        assert "déjà pris" in response.content.decode()
    assert not User.objects.filter(email="nouvelle@example.org").exists()

    # The authority names "camille" for the period when the messages were posted.
    legal_request = open_request(
        named_pseudonyms=["camille"],
        period_start=before,
        period_end=timezone.now(),
        categories=["identity", "connections", "messages"],
    )
    (subject,) = legal_request.subjects.all()
    assert (subject.user_id, subject.held_name, subject.source, subject.ambiguous) == (
        camille.pk,
        "camille",
        SubjectSource.RESTRICTED,
        False,
    )
    assert list(legal_request.accounts.all()) == [camille]

    actions.do_verify_legal_request(legal_request, actor=officer)
    actions.do_approve_legal_export(legal_request, actor=second_officer)
    package = actions.do_export_legal_request(legal_request, actor=officer, out_dir=tmp_path)
    with zipfile.ZipFile(package.path) as archive:
        messages = {row["id"]: row for row in json.loads(archive.read("messages.json"))}
        request_file = json.loads(archive.read("request.json"))
        identity = json.loads(archive.read("identity.json"))
        connections = archive.read("connections.csv").decode()

    assert request_file["named_subjects"][0]["account_id"] == camille.pk
    assert identity[0]["pseudonyms"][0]["name"] == "camille"
    for address, port in (HOME, PHONE):
        assert f"{address},{port}" in connections  # from the restricted store
    carried = {
        message_id: [
            (op["kind"], op["ip_address"], op["port"], op["protocol"]) for op in row["operations"]
        ]
        for message_id, row in messages.items()
    }
    assert carried == {
        ids["home"]: [("create", *HOME, "ws"), ("edit", *PHONE, "ws")],
        ids["phone"]: [("create", *PHONE, "ws"), ("delete", *HOME, "ws")],
    }
    # Each operation names the connection record of the socket that carried it.
    assert {
        (op.kind, op.connection_id)
        for op in ContentOperation.objects.filter(content_id=ids["home"])
    } == {("create", record_ids[HOME[0]]), ("edit", record_ids[PHONE[0]])}
    assert Message.objects.get(pk=ids["home"]).author_id == camille.pk
