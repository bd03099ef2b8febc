"""The room socket's conversation frames (docs/protocol.md): edit, delete,
reactions and typing from the client; typing to the client, filtered per
socket. A mixin of rooms.consumers.RoomConsumer, kept apart from the post path.

Each client frame goes to one synchronous, atomic action of rooms/actions/
(the JSON API calls the same ones); a refusal comes back as an `error` frame
and the socket stays open. What changed reaches every socket of the room from
the action's on-commit event, this one included.

Typing is not stored: a user's typing frame is passed on to the room at most
once every TYPING_THROTTLE_SECONDS (a cache key shared by every process), and
each socket keeps its own set of typers, dropping those it must not hear from
(blocked either way, or ignored: rooms.queries.hidden_from).
"""

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.core.cache import cache

from core.refusals import RefusalCode, Refused
from rooms import actions, queries
from rooms.models import room_group
from rooms.protocol import (
    TYPING_SHOWN_SECONDS,
    TYPING_THROTTLE_SECONDS,
    ClientEvent,
    GroupEvent,
    ServerEvent,
)

logger = logging.getLogger(__name__)

# Refusals whose code is not one of the error frame's (docs/protocol.md).
_FRAME_CODE = {RefusalCode.NOT_FOUND: str(RefusalCode.INVALID)}


def _error(code: str, detail: str, client_id) -> dict:
    return {
        "type": ServerEvent.ERROR,
        "code": _FRAME_CODE.get(code, code),
        "detail": detail,
        "client_id": client_id,
    }


def _typing_allowed(room_id: int, user_id: int) -> bool:
    """True at most once per TYPING_THROTTLE_SECONDS per user and room."""
    return cache.add(f"rooms:typing:{room_id}:{user_id}", 1, TYPING_THROTTLE_SECONDS)


class ConversationFrames:
    """Handlers for the client frames other than message.send, and the
    per-socket room events (typing)."""

    def conversation_handlers(self) -> dict:
        return {
            ClientEvent.MESSAGE_EDIT: self.frame_edit,
            ClientEvent.MESSAGE_DELETE: self.frame_delete,
            ClientEvent.REACTION_ADD: self.frame_reaction,
            ClientEvent.REACTION_REMOVE: self.frame_reaction,
            ClientEvent.TYPING: self.frame_typing,
        }

    async def receive_conversation_frame(self, content: dict, client_id) -> bool:
        """Handles the frame if it is one of these; False otherwise."""
        handler = self.conversation_handlers().get(content["type"])
        if handler is None:
            return False
        try:
            await handler(content)
        except Refused as refusal:
            await self.send_json(_error(refusal.code, refusal.detail, client_id))
        return True

    async def frame_edit(self, content: dict) -> None:
        await database_sync_to_async(actions.do_edit_message)(
            content.get("id"),
            content.get("body"),
            actor=self.user,
            account_checked=True,
            via=self.carrier,
        )

    async def frame_delete(self, content: dict) -> None:
        await database_sync_to_async(actions.do_delete_own_message)(
            content.get("id"), actor=self.user, via=self.carrier
        )

    async def frame_reaction(self, content: dict) -> None:
        await database_sync_to_async(actions.do_react)(
            content.get("id"),
            content.get("emoji"),
            actor=self.user,
            add=content["type"] == ClientEvent.REACTION_ADD,
        )

    async def frame_typing(self, content: dict) -> None:
        allowed = await sync_to_async(_typing_allowed, thread_sensitive=False)(
            self.room.id, self.user.pk
        )
        if not allowed:
            return
        try:
            await self.channel_layer.group_send(
                room_group(self.room.id),
                {
                    "type": GroupEvent.ROOM_TYPING,
                    "user": self.user.username,
                    "user_id": self.user.pk,
                },
            )
        except Exception:
            # Typing is a hint, not data: a layer hiccup must not close the socket.
            logger.exception("could not pass typing on in room %s", self.room.id)

    # --- typing, to this socket --------------------------------------------------------------

    def _typers(self) -> dict[str, float]:
        if not hasattr(self, "typers"):
            self.typers: dict[str, float] = {}
            self.hidden_ids: set[int] | None = None
            self.typing_task: asyncio.Task | None = None
        return self.typers

    async def relay_typing(self, event: dict) -> None:
        typers = self._typers()
        if event["user_id"] == self.user.pk:
            return
        if self.hidden_ids is None:
            self.hidden_ids = await database_sync_to_async(queries.hidden_from)(self.user)
        if event["user_id"] in self.hidden_ids:
            return
        is_new = event["user"] not in typers
        typers[event["user"]] = time.monotonic() + TYPING_SHOWN_SECONDS
        if is_new:
            await self._send_typers()
        if self.typing_task is None or self.typing_task.done():
            self.typing_task = asyncio.get_running_loop().create_task(self._expire_typers())

    async def typing_ended(self, username: str) -> None:
        """Their message arrived: they are no longer typing it."""
        typers = self._typers()
        if typers.pop(username, None) is not None:
            await self._send_typers()

    async def _send_typers(self) -> None:
        if self.room is not None:
            await self.send_json({"type": ServerEvent.TYPING, "users": sorted(self.typers)})

    async def _expire_typers(self) -> None:
        while self.typers and self.room is not None:
            await asyncio.sleep(min(self.typers.values()) - time.monotonic() + 0.05)
            now = time.monotonic()
            expired = [name for name, until in self.typers.items() if until <= now]
            for name in expired:
                del self.typers[name]
            if expired:
                await self._send_typers()

    async def user_relations(self, event) -> None:
        """This user's blocks or ignores changed: read them again when needed."""
        self._typers()
        self.hidden_ids = None

    async def user_mention(self, event) -> None:
        pass  # the room socket shows the message itself; the conversations page shows this

    async def stop_conversation_tasks(self) -> None:
        task = getattr(self, "typing_task", None)
        if task is not None:
            task.cancel()
