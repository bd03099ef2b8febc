"""Hostile input, by property: whatever a client sends on the room socket or to
the JSON API, no server error, no invalid message stored, the socket still works.

Each example opens its own socket (a communicator belongs to one event loop);
the examples are few but each sends a whole sequence of frames.
"""

import json
import unicodedata
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from chatsite.asgi import application
from rooms.models import Message
from rooms.protocol import ERROR_FRAME_CODES, MAX_BODY_LENGTH
from tests.rooms.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = hypothesis_settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any text, lone surrogates and control characters included.
hostile_text = st.text(st.characters(exclude_categories=()), max_size=40) | st.sampled_from(
    ["", " ", "\x00", "\ud800", "\u202e", "\r\n\r\n", "a" * (MAX_BODY_LENGTH + 1), "é" * 2000]
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)
frame_types = st.sampled_from(["message.send", "message.new", "", "MESSAGE.SEND"]) | json_values
frames = st.one_of(
    # A frame of the right shape with hostile fields...
    st.fixed_dictionaries(
        {"type": frame_types},
        optional={"body": json_values, "client_id": json_values, "extra": json_values},
    ).map(json.dumps),
    # ...any JSON value at all...
    json_values.map(json.dumps),
    # ...deeply nested...
    st.integers(min_value=1, max_value=8000).map(lambda depth: "[" * depth + "]" * depth),
    # ...and text that is not JSON, or too large.
    hostile_text.filter(bool),  # the test client cannot send an empty text frame
    st.just('{"type": "message.send", "body": "' + "x" * 20_000 + '"}'),
)


def valid_stored_body(body: str) -> bool:
    if not 1 <= len(body) <= MAX_BODY_LENGTH or body != body.strip():
        return False
    return all(char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cs") for char in body)


async def _exchange(cookie: str, slug: str, sequence: list[str]) -> list[dict]:
    headers = [ORIGIN, (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{slug}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    replies = []
    try:
        for text in sequence:
            await communicator.send_to(text_data=text)
        # Then a valid message: it must still go through, so every frame
        # before it got its answer and the socket is still usable.
        marker = uuid.uuid4().hex
        await communicator.send_json_to(
            {"type": "message.send", "body": "encore là", "client_id": marker}
        )
        while True:
            output = await communicator.receive_output(timeout=10)
            assert output["type"] == "websocket.send", f"the socket was closed: {output}"
            frame = json.loads(output["text"])
            replies.append(frame)
            if frame.get("client_id") == marker and frame["type"] == "message.new":
                return replies
    finally:
        await communicator.disconnect()


@EXAMPLES
@given(sequence=st.lists(frames, min_size=1, max_size=6))
def test_any_frame_is_answered_and_never_stores_an_invalid_message(
    sequence, make_user, make_room, settings
):
    settings.MESSAGE_RATE_LIMIT = "off"
    user = make_user(f"u{uuid.uuid4().hex[:10]}")
    room = make_room(slug=f"r-{uuid.uuid4().hex[:10]}")
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    replies = async_to_sync(_exchange)(cookie, room.slug, sequence)
    for frame in replies:
        assert frame["type"] in ("message.new", "error", "presence"), frame
        if frame["type"] == "error":
            assert frame["code"] in set(ERROR_FRAME_CODES), frame
            assert isinstance(frame["detail"], str) and frame["detail"]
            assert frame["client_id"] is None or isinstance(frame["client_id"], str)
    for message in Message.objects.filter(room=room):
        assert valid_stored_body(message.body), repr(message.body)
        assert message.client_id is None or (1 <= len(message.client_id) <= 64)


query_values = st.text(st.characters(codec="utf-8"), max_size=30) | st.integers().map(str)


@EXAMPLES
@given(
    body=json_values.map(json.dumps) | st.binary(max_size=64),
    params=st.dictionaries(st.sampled_from(["after", "before", "limit", "x"]), query_values),
)
def test_the_json_api_never_fails_with_a_server_error(body, params, make_user, make_room):
    user = make_user(f"u{uuid.uuid4().hex[:10]}")
    room = make_room(slug=f"r-{uuid.uuid4().hex[:10]}")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    for path in ("/api/dm/", "/api/blocks/"):
        response = client.post(path, body, content_type="application/json")
        assert response.status_code < 500, (path, response.content)
        assert response["Content-Type"].startswith("application/json")
    response = client.get(f"/api/rooms/{room.slug}/messages/", params)
    assert response.status_code in (200, 400), response.content
    response = client.delete("/api/blocks/" + "x" * 20 + "/")
    assert response.status_code < 500
