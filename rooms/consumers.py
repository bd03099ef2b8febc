"""The room socket, /ws/rooms/<slug>/[?after=<id>], and the conversations
socket, /ws/conversations/ (docs/protocol.md).

Every database call goes through `database_sync_to_async` into the same
synchronous, atomic actions the HTTP API uses (transactions do not work in
Django's async ORM). Refusals accept the handshake first, then close with a
code: closing before accepting would show the browser a bare HTTP 403. An
allowed socket is accepted only once it listens to its room, so a client that
sees the socket open gets every message committed from then on.

Posts do not run on Channels' single database thread (one per process, which
served every socket's post one after another) but on a small pool of their own
(`POST_THREADS`, each thread with a pooled connection): posts to different rooms
overlap their database round trips. Posts to one room still go one at a time
per process (`_room_lock`), so that this process publishes a room's messages in
commit order; each socket's posts are stored in the order it sent them.
"""

import asyncio
import json
import logging
import time
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from accounts.models import ConnectionKind
from accounts.records import client_address, record_connection
from core import metrics
from core.refusals import RefusalCode, Refused
from rooms import actions, fanout, policy, presence, queries, socket_limit
from rooms.models import Room, RoomKind, user_group
from rooms.protocol import (
    BACKFILL_CHUNK,
    MAX_FRAME_LENGTH,
    MAX_PENDING_POSTS,
    ClientEvent,
    CloseCode,
    GroupEvent,
    ServerEvent,
)
from rooms.text import message_json

logger = logging.getLogger(__name__)

# Live messages already sent by the backfill are skipped; only the newest
# backfilled ids can come again live, so a bounded memory is enough.
RECENT_IDS_KEPT = 500

# A socket's account (active, e-mail and age verified) is checked on connect,
# then again before a post once this old, instead of on every post. Sanctions
# do not wait for this: they close the sockets at once (user.<id> group).
ACCOUNT_RECHECK_SECONDS = 60

# Threads that store posts. More than the cores: a post mostly waits on
# PostgreSQL round trips. Each holds at most one pooled connection at a time.
POST_THREADS = 8
_post_executor: ThreadPoolExecutor | None = None
# One lock per room with a post in flight in this process (weak: a room's lock
# goes away with its last waiting post, and never outlives its event loop).
_room_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


def _executor() -> ThreadPoolExecutor:
    global _post_executor
    if _post_executor is None:
        _post_executor = ThreadPoolExecutor(POST_THREADS, thread_name_prefix="chatsite-post")
    return _post_executor


def _room_lock(room_id: int) -> asyncio.Lock:
    lock = _room_locks.get(room_id)
    if lock is None:
        lock = _room_locks[room_id] = asyncio.Lock()
    return lock


def error_frame(code: str, detail: str, client_id=None) -> dict:
    return {"type": ServerEvent.ERROR, "code": str(code), "detail": detail, "client_id": client_id}


def _check_room(user, slug: str) -> tuple[Room | None, policy.Verdict]:
    verdict = policy.account_verdict(user)
    if not verdict:
        return None, verdict
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        return None, policy.refuse_join(CloseCode.NOT_FOUND, _("Ce salon n'existe pas."))
    if room.is_archived and not user.is_staff:
        return None, policy.refuse_join(CloseCode.NOT_FOUND, _("Ce salon est archivé."))
    return room, policy.can_join(user, room)


def _enter_room(room: Room, user, channel_name: str, scope) -> None:
    """Records the connection (décret 2021-1362) and the presence."""
    ip_address, port = client_address(scope)
    record_connection(user, ConnectionKind.WEBSOCKET, ip_address=ip_address, port=port)
    actions.do_enter_room(room, channel_name, actor=user)


def _backfill_chunk(room: Room, after: int) -> list[dict]:
    return [
        message_json(message)
        for message in queries.messages_page(room, after=after, limit=BACKFILL_CHUNK)
    ]


def _post(room: Room, user, body, client_id) -> dict:
    """The frame to send back to this socket: the message or an error. The
    socket has checked the account (`_recheck_account`)."""
    try:
        result = actions.do_post_message(
            room, body, actor=user, client_id=client_id, account_checked=True
        )
    except Refused as refusal:
        echoed = client_id if isinstance(client_id, str) else None
        return error_frame(refusal.code, refusal.detail, echoed)
    if result.created:
        return {}  # it comes back to every socket, this one included, by the group
    return {"type": ServerEvent.MESSAGE_NEW, **result.payload}


def _recheck_account(user):
    """The account as it is now, and whether it may still chat."""
    user = get_user_model().objects.filter(pk=user.pk).first()
    if user is None:
        return None, policy.refuse_join(CloseCode.NOT_AUTHENTICATED, "")
    return user, policy.account_verdict(user)


class RoomConsumer(AsyncJsonWebsocketConsumer):
    room: Room | None = None
    user = None

    async def connect(self) -> None:
        metrics.socket_opened("room")
        self.user = self.scope.get("user")
        self.groups_joined: list[str] = []
        self.recent_ids: deque[int] = deque(maxlen=RECENT_IDS_KEPT)
        # Room events that arrive while the backfill is being sent wait here.
        self.relay_backlog: list[tuple[dict, str | None]] | None = []
        self.read_mark, self.read_task = 0, None
        self.posts: asyncio.Queue | None = None
        self.post_task: asyncio.Task | None = None
        slug = self.scope["url_route"]["kwargs"]["slug"]
        room, verdict = await database_sync_to_async(_check_room)(self.user, slug)
        if not verdict:
            await self._refuse(verdict.close_code)
            return
        if not await socket_limit.claim(self.user.pk, self.channel_name):
            await self._refuse(CloseCode.TOO_MANY_SOCKETS)
            return
        # Join the room (through this process's relay) and the user's group
        # before accepting and before reading the backfill, so that nothing
        # committed in between is missed (duplicates are skipped instead).
        self.relay = fanout.relay_for(self.channel_layer)
        self.relay_room_id = room.id
        await self.relay.add(room.id, self)
        await self._join_group(user_group(self.user.pk))
        await self.accept()
        self.account_checked_at = time.monotonic()
        await database_sync_to_async(_enter_room)(room, self.user, self.channel_name, self.scope)
        presence.track(self.channel_name)
        self.room = room
        after = self._after_parameter()
        if after is not None:
            # Chunk by chunk, so that a long absence never loads a whole room at once.
            while chunk := await database_sync_to_async(_backfill_chunk)(room, after):
                for payload in chunk:
                    self.recent_ids.append(payload["id"])
                    await self.send_json({"type": ServerEvent.MESSAGE_NEW, **payload})
                after = chunk[-1]["id"]
                if len(chunk) < BACKFILL_CHUNK:
                    break
            if room.kind != RoomKind.PUBLIC and self.recent_ids:
                await database_sync_to_async(actions.do_mark_room_read)(
                    room, actor=self.user, up_to_id=self.recent_ids[-1]
                )
        # Then what arrived meanwhile, in order. No await between the last check
        # of the backlog and going live, so no event can slip between the two.
        while self.relay_backlog:
            await self._relay_now(*self.relay_backlog.pop(0))
        self.relay_backlog = None

    async def _refuse(self, code: int) -> None:
        """Accept, then close with the code: the client sees why."""
        await self.accept()
        await self.close(code=code)

    def _after_parameter(self) -> int | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        values = query.get("after")
        if not values:
            return None
        try:
            after = int(values[0])
        except ValueError:
            after = -1
        if after < 0:
            # Said, not fatal: the client still gets live traffic.
            self._pending_error = error_frame(
                RefusalCode.INVALID, _("after doit être un identifiant de message (entier ≥ 0).")
            )
            return None
        return after

    async def _join_group(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def _leave_groups(self) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []

    async def websocket_connect(self, message) -> None:
        self._pending_error = None
        await super().websocket_connect(message)
        if self._pending_error:
            await self.send_json(self._pending_error)

    async def disconnect(self, code) -> None:
        metrics.socket_closed("room")
        if self.post_task is not None:
            # Posts not yet started are dropped: their senders never got them
            # back and resend them (same client_id) when they reconnect. The
            # one being stored is let finish, so that it is published.
            while not self.posts.empty():
                self.posts.get_nowait()
            await asyncio.gather(self.post_task, return_exceptions=True)
            self.post_task = None
        await socket_limit.release(self.channel_name)
        if getattr(self, "relay_room_id", None) is not None:
            await self.relay.remove(self.relay_room_id, self)
            self.relay_room_id = None
        await self._leave_groups()
        if getattr(self, "room", None) is not None:
            presence.untrack(self.channel_name)
            room, self.room = self.room, None
            await database_sync_to_async(self._leave)(room)

    def _leave(self, room: Room) -> None:
        actions.do_leave_room(room, self.channel_name, actor=self.user)

    async def dispatch(self, message) -> None:
        """Channels' dispatch without its `aclose_old_connections()` hop to the
        database thread before every frame: this consumer touches the database
        only through `database_sync_to_async`, which closes (returns to the
        pool) its connections around each call already."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- client frames ---------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if self.room is None:
            return  # refused, closing
        if text_data is None:
            await self.send_json(
                error_frame(RefusalCode.INVALID, _("Seuls les messages texte JSON sont acceptés."))
            )
            return
        if len(text_data) > MAX_FRAME_LENGTH:
            await self.send_json(error_frame(RefusalCode.TOO_LONG, _("Message trop volumineux.")))
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            await self.send_json(
                error_frame(RefusalCode.INVALID, _("Ce message n'est pas du JSON valide."))
            )
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json(
                error_frame(RefusalCode.INVALID, _("Un objet JSON avec un champ type est attendu."))
            )
            return
        client_id = content.get("client_id")
        if not isinstance(client_id, str):
            client_id = None
        if content["type"] != ClientEvent.MESSAGE_SEND:
            await self.send_json(
                error_frame(RefusalCode.INVALID, _("Type de message inconnu."), client_id)
            )
            return
        if self.posts is None:
            self.posts = asyncio.Queue()
        if self.posts.qsize() >= MAX_PENDING_POSTS:
            await self.send_json(
                error_frame(
                    RefusalCode.RATE_LIMITED,
                    _("Trop de messages en attente : réessayez dans un instant."),
                    client_id,
                )
            )
            return
        self.posts.put_nowait((content.get("body"), content.get("client_id")))
        if self.post_task is None or self.post_task.done():
            self.post_task = asyncio.get_running_loop().create_task(self._store_posts())

    async def _store_posts(self) -> None:
        """Stores this socket's posts one after another, in the order sent,
        while the socket goes on reading frames (and sanctions)."""
        store = database_sync_to_async(_post, thread_sensitive=False, executor=_executor())
        while self.room is not None and not self.posts.empty():
            body, client_id = self.posts.get_nowait()
            try:
                if time.monotonic() - self.account_checked_at > ACCOUNT_RECHECK_SECONDS:
                    user, verdict = await database_sync_to_async(_recheck_account)(self.user)
                    if not verdict:
                        await self.close(code=verdict.close_code)
                        return
                    self.user, self.account_checked_at = user, time.monotonic()
                async with _room_lock(self.room.id):
                    reply = await store(self.room, self.user, body, client_id)
            except Exception:
                # The database is unreachable or worse: close (1011) rather than
                # drop posts silently; the client reconnects and resends them.
                logger.exception("could not store a post in room %s", self.room.id)
                await self.close(code=1011)
                return
            if reply:
                await self.send_json(reply)

    # --- room events, from this process's relay (rooms/fanout.py) ------------------------------

    async def relay_event(self, event: dict, text: str | None) -> None:
        """A room event with its frame already encoded (None: a close)."""
        if self.relay_backlog is not None:
            self.relay_backlog.append((event, text))
            return
        await self._relay_now(event, text)

    async def _relay_now(self, event: dict, text: str | None) -> None:
        if self.room is None:
            return
        if text is None:
            if event.get("type") == GroupEvent.ROOM_CLOSE:
                await self.close(code=event["code"])
            return
        if event["type"] == GroupEvent.ROOM_MESSAGE:
            message = event["message"]
            message_id = message["id"]
            restored = event.get("restored", False)
            # Backfilled ids are ascending: most live ids skip the scan. A restored
            # message comes again on purpose (the socket was told it was deleted).
            if (
                not restored
                and self.recent_ids
                and message_id <= self.recent_ids[-1]
                and message_id in self.recent_ids
            ):
                return
            # One frame, written straight to the socket: the text is shared.
            await self.base_send({"type": "websocket.send", "text": text})
            if not restored:  # its delay since creation is no delivery latency
                metrics.message_delivered(message)
            if self.room.kind != RoomKind.PUBLIC and message["author"] != self.user.username:
                self._mark_read_later(message_id)
            return
        await self.base_send({"type": "websocket.send", "text": text})

    def _mark_read_later(self, message_id: int) -> None:
        """Seen live: keeps the conversations page's unread count right. In the
        background, coalesced, so that the relay never waits on the database."""
        self.read_mark = max(self.read_mark, message_id)
        if self.read_task is None or self.read_task.done():
            self.read_task = asyncio.get_running_loop().create_task(self._mark_read())

    async def _mark_read(self) -> None:
        marked = 0
        while self.read_mark > marked and self.room is not None:
            marked = self.read_mark
            try:
                await database_sync_to_async(actions.do_mark_room_read)(
                    self.room, actor=self.user, up_to_id=marked
                )
            except Exception:
                logger.exception("could not mark room %s read", self.room.id)
                return

    # --- user events --------------------------------------------------------------------------

    async def user_close(self, event) -> None:
        if self.room is not None and event.get("room") in (None, self.room.id):
            await self.close(code=event["code"])

    async def user_conversation(self, event) -> None:
        pass  # for the conversations socket; a room socket has nothing to show


class ConversationsConsumer(AsyncJsonWebsocketConsumer):
    """Tells the conversations page to refresh its unread counts. The counts
    themselves come from GET /api/conversations/, so they survive reconnects."""

    async def connect(self) -> None:
        await self.accept()
        metrics.socket_opened("conversations")
        user = self.scope.get("user")
        verdict = await database_sync_to_async(policy.account_verdict)(user)
        if not verdict:
            await self.close(code=verdict.close_code)
            return
        if not await socket_limit.claim(user.pk, self.channel_name):
            await self.close(code=CloseCode.TOO_MANY_SOCKETS)
            return
        self.user = user
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        ip_address, port = client_address(self.scope)
        await database_sync_to_async(record_connection)(
            user, ConnectionKind.WEBSOCKET, ip_address=ip_address, port=port
        )

    async def disconnect(self, code) -> None:
        metrics.socket_closed("conversations")
        await socket_limit.release(self.channel_name)
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        await self.send_json(error_frame(RefusalCode.INVALID, _("Ce canal ne reçoit rien.")))

    async def user_conversation(self, event) -> None:
        await self.send_json({"type": ServerEvent.CONVERSATION_CHANGED, "room": event["room"]})

    async def user_close(self, event) -> None:
        if event.get("room") is None:
            await self.close(code=event["code"])
