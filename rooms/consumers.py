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
commit order; each socket's posts are stored in the order it sent them. On
SQLite, which has one writer, the pool has one thread: posts wait their turn
in this process instead of failing with "database is locked".

Access that ends closes the socket (docs/protocol.md, "Revocation"): events on
the channel layer close it at once (`user.<id>` for sanctions, blocks, removals
and account changes, `session.<digest>` for a sign-out), and the socket also
checks its session, account and room access again on a timer and before posts.
"""

import asyncio
import json
import logging
import time
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, OperationalError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import sessions
from accounts.models import ConnectionKind
from accounts.records import Carrier, client_address, record_connection, socket_carrier
from core import metrics
from core.refusals import RefusalCode, Refused
from core.staff import has_staff_powers
from rooms import (
    actions,
    fanout,
    notify,
    policy,
    policy_cache,
    presence,
    queries,
    socket_limit,
)
from rooms.app_settings import app_settings
from rooms.consumer_frames import ConversationFrames
from rooms.models import Room, RoomKind, session_group, user_group
from rooms.protocol import (
    BACKFILL_CHUNK,
    MAX_FRAME_LENGTH,
    MAX_PENDING_POSTS,
    ClientEvent,
    CloseCode,
    GroupEvent,
    ServerEvent,
    sendable,
)
from rooms.text import message_json

logger = logging.getLogger(__name__)

# Live messages already sent by the backfill are skipped; only the newest
# backfilled ids can come again live, so a bounded memory is enough.
RECENT_IDS_KEPT = 500

# An open socket checks again that its session still authenticates its user
# (the session's auth hash: a password change or a sign-out ends it), that the
# account may still chat and that it may still be in the room: on this timer,
# and before a post when the last check is older than REVALIDATE_BEFORE_POST.
# Events on the channel layer close it at once; these checks catch what no
# event announced (a session deleted by hand, a lost event).
REVALIDATE_SECONDS = 30
REVALIDATE_BEFORE_POST_SECONDS = 5
# A password change saves the account just before the request that made it
# stores the new hash in its own session, under a new key: a socket of that
# session told to check in between would see a stale session, so it checks
# once more after this (told the new key meanwhile, session.rekey).
SESSION_UPDATE_GRACE_SECONDS = 0.5

# Threads that store posts. More than the cores: a post mostly waits on
# PostgreSQL round trips. Each holds at most one pooled connection at a time.
POST_THREADS = 8
_post_executor: ThreadPoolExecutor | None = None
# One lock per room with a post in flight in this process (weak: a room's lock
# goes away with its last waiting post, and never outlives its event loop).
_room_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


def _post_threads() -> int:
    """SQLite has one writer: one post thread, so that posts wait here in order
    rather than compete for the file's lock."""
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        return 1
    return POST_THREADS


def _executor() -> ThreadPoolExecutor:
    global _post_executor
    if _post_executor is None:
        _post_executor = ThreadPoolExecutor(_post_threads(), thread_name_prefix="chatsite-post")
    return _post_executor


def _room_lock(room_id: int) -> asyncio.Lock:
    lock = _room_locks.get(room_id)
    if lock is None:
        lock = _room_locks[room_id] = asyncio.Lock()
    return lock


def error_frame(code: str, detail: str, client_id=None) -> dict:
    return {"type": ServerEvent.ERROR, "code": str(code), "detail": detail, "client_id": client_id}


def conversation_frame(event: dict) -> dict:
    """`conversation.changed`, with `request` when the user's own contact
    request was just answered ("accepted")."""
    frame = {"type": ServerEvent.CONVERSATION_CHANGED, "room": event["room"]}
    if event.get("request"):
        frame["request"] = event["request"]
    return frame


def _is_busy(error: DatabaseError) -> bool:
    """SQLite's lock stayed taken longer than the busy timeout: worth a retry
    on the same socket (anything else closes it with TRY_AGAIN)."""
    return isinstance(error, OperationalError) and "locked" in str(error)


def _opening_user_and_session(scope, user_id, session_key):
    """The handshake's account and session data, when they are that user's and
    that session's; (None, None) otherwise."""
    if scope is None or not user_id:
        return None, None
    # Channels' auth middleware wraps the account in a lazy object: the model itself.
    user, session = getattr(scope.get("user"), "_wrapped", scope.get("user")), scope.get("session")
    if getattr(user, "pk", None) != user_id or session is None:
        return None, None
    if getattr(session, "session_key", None) != session_key:
        return None, None
    return user, dict(session.items())


def _first(queryset):
    """The row of a lookup by a unique key, or None (no ORDER BY, not even the Meta one)."""
    return next(iter(queryset.order_by()[:1]), None)


def _check_access(user_id, slug: str, session_key: str | None, scope=None):
    """The room, the account as it is now, and whether this session may be in
    the room: the session still authenticates the account (its auth hash),
    the account may chat, the room exists and lets the user in. `scope`: the
    handshake's, whose session and account the auth middleware has just read
    from the database; a later check reads both again."""
    user, data = _opening_user_and_session(scope, user_id, session_key)
    if data is None:
        # Sliced rather than .first(): unique keys need no ORDER BY (cheaper to build).
        user = _first(get_user_model().objects.filter(pk=user_id)) if user_id else None
        data = sessions.session_data(session_key)
    if user is None or not sessions.session_matches(data, user):
        # The account comes back with the refusal: a stale session of an
        # account still active may be a password change in flight (the grace
        # of RoomConsumer._revalidate); a closed or deactivated one never is.
        return (
            None,
            user,
            policy.refuse_join(
                CloseCode.NOT_AUTHENTICATED, _("Votre session a pris fin : reconnectez-vous.")
            ),
        )
    sessions.verify_second_factor(user, data)
    verdict = policy.account_verdict(user)
    if not verdict:
        return None, user, verdict
    room = queries.room_by_slug(slug)
    if room is None:
        return None, user, policy.refuse_join(CloseCode.NOT_FOUND, _("Ce salon n'existe pas."))
    if room.is_archived and not has_staff_powers(user):
        return None, user, policy.refuse_join(CloseCode.NOT_FOUND, _("Ce salon est archivé."))
    return room, user, policy.can_join(user, room, account_checked=True)


def _recheck_access(user_id, slug: str, session_key: str | None, last=None):
    """`_check_access` before a post: the same verdict for the cost of one
    statement when nothing it reads has changed since the last full check.
    `last`: what that check left (its fingerprint, room and account), or None.
    Returns the room, the account, the verdict and what to pass next time.

    The fingerprint is read before the full check: a change that lands during
    the check shows in the next fingerprint, which then differs. The checks
    that other apps registered (a ban) run either way; they keep their own
    per-process copies (rooms/policy_cache.py)."""
    fingerprint = queries.access_fingerprint(user_id, session_key, slug)
    if fingerprint is not None and last is not None and last[0] == fingerprint:
        _fingerprint, room, user = last
        return room, user, policy.registered_join_verdict(user, room), last
    room, user, verdict = _check_access(user_id, slug, session_key)
    kept = (fingerprint, room, user) if fingerprint is not None and verdict else None
    return room, user, verdict, kept


# A timed mute ends by itself (no job lifts it): the socket reads the
# restriction again this long after its end and tells the page.
RESTRICTION_END_MARGIN_SECONDS = 0.5
NO_RESTRICTION = {
    "measure": None,
    "scope": None,
    "until": None,
    "label": "",
    "detail": "",
    "statement": None,
    "can_appeal": False,
}


def restriction_frame(found: policy.Restriction | None) -> dict:
    """The `restriction` frame: the measure that limits the user here, or none."""
    return {"type": ServerEvent.RESTRICTION, **(found.as_frame() if found else NO_RESTRICTION)}


def _restriction(user, room: Room) -> policy.Restriction | None:
    return policy.restriction(user, room)


def _session_key(scope) -> str | None:
    session = scope.get("session")
    return getattr(session, "session_key", None) if session is not None else None


def _enter_room(
    room: Room, user, channel_name: str, scope
) -> tuple[Carrier, dict | None, dict, list[tuple[str, dict]]]:
    """Records the connection (décret 2021-1362) and the presence. Returns the
    carrier that the socket's writes name in their content operations, the
    presence frame for this socket alone when the room's online set did not
    change (no broadcast will bring it: a second tab), the restriction, and the
    group events the committed entry owes (the presence broadcast), for the
    socket to send from its event loop (`notify.collected`, as a post's)."""
    ip_address, port = client_address(scope)
    record = record_connection(user, ConnectionKind.WEBSOCKET, ip_address=ip_address, port=port)
    # The sets and the count come from the entry itself, read under the room's lock.
    with notify.collected() as events:
        entered = actions.do_enter_room_counted(room, channel_name, actor=user)
    presence_frame = None
    # Above PRESENCE_LIST_MAX the room is told only who came (presence.delta):
    # this socket gets the whole list it starts from, here.
    if entered.after == entered.before or len(entered.after) > app_settings.PRESENCE_LIST_MAX:
        presence_frame = {
            "type": ServerEvent.PRESENCE,
            "users": entered.after,
            "members": entered.members,
        }
    restricted = restriction_frame(_restriction(user, room))
    return socket_carrier(record, scope), presence_frame, restricted, events


def _backfill_chunk(room: Room, after: int) -> list[dict]:
    return [
        message_json(message)
        for message in queries.messages_page(room, after=after, limit=BACKFILL_CHUNK)
    ]


def _post(
    room: Room, user, body, client_id, reply_to=None, via: Carrier | None = None
) -> tuple[dict, list[tuple[str, dict]]]:
    """The frame to send back to this socket (the message or an error), and the
    group events that the committed post owes (`notify.collected`), for the
    socket to send from its event loop. The socket has checked the session
    and the account (`_check_access`)."""
    with notify.collected() as events:
        try:
            result = actions.do_post_message(
                room,
                body,
                actor=user,
                client_id=client_id,
                account_checked=True,
                reply_to=reply_to,
                via=via,
            )
        except Refused as refusal:
            echoed = client_id if isinstance(client_id, str) else None
            # A refusal may still owe events (a filter's mute, committed apart).
            return error_frame(refusal.code, refusal.detail, echoed), events
    if result.created:
        return {}, events  # it comes back to every socket, this one included, by the group
    return {"type": ServerEvent.MESSAGE_NEW, **result.payload}, events


class RoomConsumer(ConversationFrames, AsyncJsonWebsocketConsumer):
    room: Room | None = None
    user = None
    # This socket's connection record, named by each write it carries.
    carrier: Carrier | None = None
    # Set once this side has sent the close: the room relay writes nothing after it.
    closing = False

    async def connect(self) -> None:
        metrics.socket_opened("room")
        self.user = self.scope.get("user")
        self.groups_joined: list[str] = []
        self.recent_ids: deque[int] = deque(maxlen=RECENT_IDS_KEPT)
        # Room events that arrive while the backfill is being sent wait here.
        self.relay_backlog: list[tuple[dict, str | None]] | None = []
        self.read_mark, self.read_task = 0, None
        # What the last full access check read (`_recheck_access`), or None.
        self.access_seen = None
        self.posts: asyncio.Queue | None = None
        self.post_task: asyncio.Task | None = None
        self.revalidate_task: asyncio.Task | None = None
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.session_key = _session_key(self.scope)
        room, user, verdict = await database_sync_to_async(_check_access)(
            getattr(self.user, "pk", None), self.slug, self.session_key, self.scope
        )
        if not verdict:
            told = None
            if verdict.close_code == CloseCode.FORBIDDEN and room is not None:
                # Banned or kicked: the page shows the decision, not a bare refusal.
                found = await database_sync_to_async(_restriction)(user, room)
                told = restriction_frame(found) if found else None
            await self._refuse(verdict.close_code, told)
            return
        self.user = user  # with its second factor checked (staff powers)
        if not await socket_limit.claim(self.user.pk, self.channel_name):
            await self._refuse(CloseCode.TOO_MANY_SOCKETS)
            return
        # Join the room (through this process's relay) and the user's group
        # before accepting and before reading the backfill, so that nothing
        # committed in between is missed (duplicates are skipped instead).
        self.relay = fanout.relay_for(self.channel_layer)
        await policy_cache.listen(self.channel_layer)  # sanctions and filters kept in memory
        self.relay_room_id = room.id
        await self.relay.add(room.id, self)
        await self._join_group(user_group(self.user.pk))
        await self._join_group(session_group(self.session_key))
        await self.accept()
        self.checked_at = time.monotonic()
        self.restriction_timer: asyncio.Task | None = None
        entered = await database_sync_to_async(_enter_room)(
            room, self.user, self.channel_name, self.scope
        )
        self.carrier, presence_frame, restricted, events = entered
        await notify.publish(self.channel_layer, events)
        presence.track(self.channel_name)
        self.room = room
        if restricted["measure"] is not None:
            await self._tell_restriction(restricted)
        if presence_frame is not None:
            await self.send_json(presence_frame)
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
        self.revalidate_task = asyncio.get_running_loop().create_task(self._revalidate_forever())

    async def _refuse(self, code: int, frame: dict | None = None) -> None:
        """Accept, then close with the code: the client sees why (and, for a
        ban or a kick, which decision: the `restriction` frame first)."""
        await self.accept()
        if frame is not None:
            await self.send_json(frame)
        await self.close(code=code)

    # --- restrictions (moderation's measures, shown by the page) ----------------------------

    async def _tell_restriction(self, frame: dict) -> None:
        """Sends the frame; a timed mute is read again just after its end, so
        that the page gets its composer back without a reload."""
        await self.send_json(frame)
        timer = getattr(self, "restriction_timer", None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        self.restriction_timer = None
        if frame["measure"] == "mute" and frame["until"]:
            ends = datetime.fromisoformat(frame["until"])
            delay = (ends - timezone.now()).total_seconds() + RESTRICTION_END_MARGIN_SECONDS
            self.restriction_timer = asyncio.get_running_loop().create_task(
                self._restriction_ended(max(delay, 0))
            )

    async def _restriction_ended(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.room is None:
            return
        try:
            found = await database_sync_to_async(_restriction)(self.user, self.room)
            await self._tell_restriction(restriction_frame(found))
        except Exception:
            logger.exception("could not read the restriction in room %s", self.room.id)

    async def _close_forbidden(self, code: int) -> None:
        """Closes with the code; a ban or a kick is named first (4403)."""
        if code == CloseCode.FORBIDDEN and self.room is not None:
            try:
                found = await database_sync_to_async(_restriction)(self.user, self.room)
            except Exception:
                logger.exception("could not read the restriction in room %s", self.room.id)
                found = None
            if found is not None:
                await self.send_json(restriction_frame(found))
        await self.close(code=code)

    async def user_restriction(self, event) -> None:
        if self.room is None or event.get("room") not in (None, self.room.id):
            return
        try:
            found = await database_sync_to_async(_restriction)(self.user, self.room)
        except Exception:
            logger.exception("could not read the restriction in room %s", self.room.id)
            return
        await self._tell_restriction(restriction_frame(found))

    async def close(self, code=None, reason=None) -> None:
        # Every close goes through here: never a code the protocol cannot send.
        self.closing = True
        await super().close(code=sendable(code), reason=reason)

    # --- re-validation ----------------------------------------------------------------------

    async def _revalidate(self, *, grace: bool = False, before_post: bool = False) -> bool:
        """Checks the session, account and room access again; closes the socket
        (and returns False) when they ended. `grace`: a stale session hash is
        given SESSION_UPDATE_GRACE_SECONDS to be updated (a password change
        by this very session) before it counts. `before_post`: one statement
        when nothing changed since the last full check (`_recheck_access`); the
        timer and the events always check in full (a renamed account, too)."""
        if before_post:
            check = database_sync_to_async(_recheck_access)
            _room, user, verdict, self.access_seen = await check(
                self.user.pk, self.slug, self.session_key, self.access_seen
            )
        else:
            check = database_sync_to_async(_check_access)
            _room, user, verdict = await check(self.user.pk, self.slug, self.session_key)
            self.access_seen = None
        if (
            not verdict
            and grace
            and verdict.close_code == CloseCode.NOT_AUTHENTICATED
            and user is not None
            and user.is_active
        ):
            # Checked again in a moment, off this handler, so that a
            # `session.rekey` (this very session changed the password) is
            # handled meanwhile.
            self.grace_task = asyncio.get_running_loop().create_task(self._revalidate_later())
            return True
        if not verdict:
            await self._close_forbidden(verdict.close_code)
            return False
        self.user, self.checked_at = user, time.monotonic()
        return True

    async def _revalidate_later(self) -> None:
        await asyncio.sleep(SESSION_UPDATE_GRACE_SECONDS)
        if self.room is None:
            return
        try:
            await self._revalidate()
        except Exception:
            logger.exception("could not check socket access in room %s", self.room.id)

    async def _revalidate_forever(self) -> None:
        while self.room is not None:
            await asyncio.sleep(REVALIDATE_SECONDS)
            if self.room is None:
                return
            try:
                if not await self._revalidate():
                    return
            except Exception:
                # The database is down: posts will say so; reading goes on.
                logger.exception("could not check socket access in room %s", self.room.id)

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
        if getattr(self, "revalidate_task", None) is not None:
            self.revalidate_task.cancel()
            self.revalidate_task = None
        if getattr(self, "restriction_timer", None) is not None:
            self.restriction_timer.cancel()
            self.restriction_timer = None
        await self.stop_conversation_tasks()
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
            events = await database_sync_to_async(self._leave)(room)
            await notify.publish(self.channel_layer, events)

    def _leave(self, room: Room) -> list[tuple[str, dict]]:
        with notify.collected() as events:
            actions.do_leave_room(room, self.channel_name, actor=self.user)
        return events

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
        # Edit, delete, reactions, typing: rooms/consumer_frames.py.
        if await self.receive_conversation_frame(content, client_id):
            return
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
        self.posts.put_nowait(
            (content.get("body"), content.get("client_id"), content.get("reply_to"))
        )
        if self.post_task is None or self.post_task.done():
            self.post_task = asyncio.get_running_loop().create_task(self._store_posts())

    async def _store_posts(self) -> None:
        """Stores this socket's posts one after another, in the order sent,
        while the socket goes on reading frames (and sanctions)."""
        store = database_sync_to_async(_post, thread_sensitive=False, executor=_executor())
        while self.room is not None and not self.posts.empty():
            body, client_id, reply_to = self.posts.get_nowait()
            try:
                stale = time.monotonic() - self.checked_at > REVALIDATE_BEFORE_POST_SECONDS
                if stale and not await self._revalidate(before_post=True):
                    return
                async with _room_lock(self.room.id):
                    reply, events = await store(
                        self.room, self.user, body, client_id, reply_to, self.carrier
                    )
                    # Under the room's lock: this process publishes in commit order.
                    await notify.publish(self.channel_layer, events)
            except DatabaseError as error:
                if not _is_busy(error):
                    logger.exception("could not store a post in room %s", self.room.id)
                    await self._fail_posts()
                    return
                # Still locked after the busy timeout: this post and those
                # queued behind it are refused, to be resent (same client_id).
                logger.warning("database busy: posts refused in room %s", self.room.id)
                await self._refuse_posts(client_id)
                continue
            except Exception:
                logger.exception("could not store a post in room %s", self.room.id)
                await self._fail_posts()
                return
            if reply:
                await self.send_json(reply)

    async def _refuse_posts(self, client_id) -> None:
        pending = [client_id]
        while not self.posts.empty():
            pending.append(self.posts.get_nowait()[1])
        detail = _("Le serveur est occupé : le message n'a pas été enregistré, renvoyez-le.")
        for each in pending:
            await self.send_json(
                error_frame(
                    RefusalCode.UNAVAILABLE, detail, each if isinstance(each, str) else None
                )
            )

    async def _fail_posts(self) -> None:
        """The database is unreachable or worse: close with TRY_AGAIN rather
        than drop posts silently; the client reconnects and resends whatever
        was not echoed back (same client_id, so stored once)."""
        await self.close(code=CloseCode.TRY_AGAIN)

    # --- room events, from this process's relay (rooms/fanout.py) ------------------------------

    async def relay_event(self, event: dict, text: str | None) -> None:
        """A room event with its frame already encoded (None: a close)."""
        if self.relay_backlog is not None:
            self.relay_backlog.append((event, text))
            return
        await self._relay_now(event, text)

    async def _relay_now(self, event: dict, text: str | None) -> None:
        if self.room is None or self.closing:
            return
        if event.get("type") == GroupEvent.ROOM_TYPING:
            await self.relay_typing(event)  # filtered per socket: rooms/consumer_frames.py
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
            await self.typing_ended(message["author"])
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
            await self._close_forbidden(event["code"])

    async def user_revalidate(self, event) -> None:
        if self.room is None or event.get("room") not in (None, self.room.id):
            return
        try:
            await self._revalidate(grace=True)
        except Exception:
            # The timer and the next post check again; a handler must not crash the socket.
            logger.exception("could not check socket access in room %s", self.room.id)

    async def session_close(self, event) -> None:
        if self.room is not None:
            await self.close(code=event["code"])

    async def session_rekey(self, event) -> None:
        old_group = session_group(self.session_key)
        await self.channel_layer.group_discard(old_group, self.channel_name)
        self.groups_joined = [group for group in self.groups_joined if group != old_group]
        self.session_key = event["key"]
        await self._join_group(session_group(self.session_key))

    async def user_conversation(self, event) -> None:
        # The page's navigation badges and a waiting contact request follow
        # this socket rather than open a second one (docs/protocol.md).
        await self.send_json(conversation_frame(event))


class ConversationsConsumer(AsyncJsonWebsocketConsumer):
    """Tells the conversations page to refresh its unread counts. The counts
    themselves come from GET /api/conversations/, so they survive reconnects."""

    async def connect(self) -> None:
        await self.accept()
        metrics.socket_opened("conversations")
        user = self.scope.get("user")
        self.session_key = _session_key(self.scope)
        verdict = await database_sync_to_async(self._check)(getattr(user, "pk", None))
        if not verdict:
            await self.close(code=verdict.close_code)
            return
        if not await socket_limit.claim(user.pk, self.channel_name):
            await self.close(code=CloseCode.TOO_MANY_SOCKETS)
            return
        self.user = user
        self.groups_joined = [user_group(user.pk), session_group(self.session_key)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        ip_address, port = client_address(self.scope)
        await database_sync_to_async(record_connection)(
            user, ConnectionKind.WEBSOCKET, ip_address=ip_address, port=port
        )

    def _check_active(self, user_id) -> tuple[policy.Verdict, bool]:
        """The verdict, and whether the account is still active (only then may a
        stale session be a password change in flight); one read of the account."""
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        active = user is not None and user.is_active
        if user is None or not sessions.session_matches(
            sessions.session_data(self.session_key), user
        ):
            return policy.refuse_join(CloseCode.NOT_AUTHENTICATED, ""), active
        return policy.account_verdict(user), active

    def _check(self, user_id) -> policy.Verdict:
        """The session still authenticates the account, which may still chat."""
        return self._check_active(user_id)[0]

    async def close(self, code=None, reason=None) -> None:
        await super().close(code=sendable(code), reason=reason)

    async def disconnect(self, code) -> None:
        metrics.socket_closed("conversations")
        await socket_limit.release(self.channel_name)
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        await self.send_json(error_frame(RefusalCode.INVALID, _("Ce canal ne reçoit rien.")))

    async def user_conversation(self, event) -> None:
        await self.send_json(conversation_frame(event))

    async def user_mention(self, event) -> None:
        await self.send_json(
            {"type": ServerEvent.MENTION, "room": event["room"], "message": event["message"]}
        )

    async def user_relations(self, event) -> None:
        pass  # for room sockets (typing); nothing to show here

    async def user_restriction(self, event) -> None:
        pass  # for room sockets: the room page shows the measure

    async def user_close(self, event) -> None:
        if event.get("room") is None:
            await self.close(code=event["code"])

    async def user_revalidate(self, event) -> None:
        # A change of one room's access does not concern this socket.
        if getattr(self, "user", None) is None or event.get("room") is not None:
            return
        verdict, active = await database_sync_to_async(self._check_active)(self.user.pk)
        if not verdict and verdict.close_code == CloseCode.NOT_AUTHENTICATED and active:
            # As RoomConsumer: checked again off this handler (session.rekey).
            self.grace_task = asyncio.get_running_loop().create_task(self._check_later())
        elif not verdict:
            await self.close(code=verdict.close_code)

    async def _check_later(self) -> None:
        await asyncio.sleep(SESSION_UPDATE_GRACE_SECONDS)
        verdict = await database_sync_to_async(self._check)(self.user.pk)
        if not verdict:
            await self.close(code=verdict.close_code)

    async def session_close(self, event) -> None:
        await self.close(code=event["code"])

    async def session_rekey(self, event) -> None:
        old_group = session_group(self.session_key)
        await self.channel_layer.group_discard(old_group, self.channel_name)
        self.session_key = event["key"]
        new_group = session_group(self.session_key)
        await self.channel_layer.group_add(new_group, self.channel_name)
        self.groups_joined = [group for group in self.groups_joined if group != old_group]
        self.groups_joined.append(new_group)
