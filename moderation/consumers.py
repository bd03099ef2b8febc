"""The staff console socket, /ws/staff/ (docs/protocol.md, "The staff console socket").

OTP-verified staff who read the queue get urgent reports, alerts and every move
on a report (claim, release, reassign, escalate, thread, decision) pushed as
they commit: no polling. The socket follows the room socket's rules: the same
exact-Origin check (chatsite/asgi.py), the handshake accepted then closed with a
code (4401 not signed in or the session ended, 4403 not staff, no verified
second factor or no permission), and the same revocation: a sign-out closes
that session's consoles, a password change or a deactivation every console of
the account (rooms/revocation.py sends `session.close` and `user.revalidate`).
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from accounts import sessions
from core import metrics
from core.refusals import RefusalCode, Refused
from core.staff import has_staff_powers
from moderation import actions, queries
from moderation.console import (
    CONSOLE_GROUP,
    CONSOLE_PERMISSION,
    PRESENCE_REFRESH_SECONDS,
    ConsoleFrame,
    ConsoleRequest,
    close_console,
    open_console,
    refresh_console,
)
from moderation.models import Report
from rooms.models import session_group, user_group
from rooms.protocol import CloseCode, sendable

# As the room socket: a password change stores the session's new hash just after
# it tells the sockets to check again.
SESSION_UPDATE_GRACE_SECONDS = 0.5

logger = logging.getLogger(__name__)


def _session_key(scope) -> str | None:
    session = scope.get("session")
    return getattr(session, "session_key", None) if session is not None else None


def staff_console_verdict(user_id, session_key) -> tuple[int | None, object]:
    """(None, the account) when this session may hold a console now; else
    (the close code, None). Read from the database every time: a socket
    outlives the request that signed its session in."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    data = sessions.session_data(session_key)
    if user is None or not user.is_active or not sessions.session_matches(data, user):
        return CloseCode.NOT_AUTHENTICATED, None
    sessions.verify_second_factor(user, data)
    if not has_staff_powers(user) or not user.has_perm(CONSOLE_PERMISSION):
        return CloseCode.FORBIDDEN, None
    return None, user


def _claim_or_release(user, request: str, report_id) -> None:
    report = Report.objects.filter(pk=report_id).first() if isinstance(report_id, int) else None
    if report is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Signalement introuvable."))
    if request == ConsoleRequest.CLAIM:
        if not user.has_perm("moderation.change_report") and not actions.may_handle(report, user):
            raise Refused(RefusalCode.FORBIDDEN, _("Vous n'avez pas la permission nécessaire."))
        actions.do_claim_report(report, actor=user)
    else:
        actions.do_release_report(report, actor=user)


class StaffConsumer(AsyncJsonWebsocketConsumer):
    user = None
    groups_joined: list[str]

    async def connect(self) -> None:
        self.groups_joined = []
        self.refresh_task = None
        await self.accept()  # then close with a code: the client sees why
        scope_user = self.scope.get("user")
        self.session_key = _session_key(self.scope)
        code, user = await database_sync_to_async(staff_console_verdict)(
            getattr(scope_user, "pk", None), self.session_key
        )
        if code is not None:
            await self.close(code=code)
            return
        self.user = user
        metrics.socket_opened("staff")
        for group in (CONSOLE_GROUP, user_group(user.pk), session_group(self.session_key)):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        counts = await database_sync_to_async(self._enter)()
        await self.send_json({"type": ConsoleFrame.COUNTS, "counts": counts})
        self.refresh_task = asyncio.get_running_loop().create_task(self._refresh_forever())

    def _enter(self) -> dict:
        open_console(self.user, self.channel_name)
        return queries.queue_counts()

    async def _refresh_forever(self) -> None:
        """Keeps the presence row fresh and checks the session and the account
        again, catching what no event announced."""
        while True:
            await asyncio.sleep(PRESENCE_REFRESH_SECONDS)
            try:
                if not await self._still_allowed():
                    return
                await database_sync_to_async(refresh_console)(self.channel_name)
            except Exception:
                logger.exception("could not refresh a staff console")

    async def _still_allowed(self) -> bool:
        code, _user = await database_sync_to_async(staff_console_verdict)(
            self.user.pk, self.session_key
        )
        if code is not None:
            await self.close(code=code)
            return False
        return True

    async def close(self, code=None, reason=None) -> None:
        await super().close(code=sendable(code), reason=reason)

    async def disconnect(self, code) -> None:
        if self.refresh_task is not None and self.refresh_task is not asyncio.current_task():
            self.refresh_task.cancel()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []
        if self.user is not None:
            metrics.socket_closed("staff")
            await database_sync_to_async(close_console)(self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if self.user is None:
            return
        request = content.get("type") if isinstance(content, dict) else None
        report_id = content.get("id") if isinstance(content, dict) else None
        if request not in set(ConsoleRequest):
            await self._error(RefusalCode.INVALID, _("Trame inconnue."), report_id)
            return
        if not await self._still_allowed():
            return
        try:
            await database_sync_to_async(_claim_or_release)(self.user, request, report_id)
        except Refused as refusal:
            await self._error(refusal.code, refusal.detail, report_id)
        # Success comes back to every console, this one included, as report.updated.

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:  # not JSON
            await self._error(RefusalCode.INVALID, _("Trame inconnue."), None)

    async def _error(self, code, detail: str, report_id) -> None:
        await self.send_json(
            {
                "type": ConsoleFrame.ERROR,
                "code": str(code),
                "detail": detail,
                "id": report_id if isinstance(report_id, int) else None,
            }
        )

    # --- group events ---------------------------------------------------------------------

    async def console_event(self, event) -> None:
        await self.send_json(event["frame"])

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

    async def user_revalidate(self, event) -> None:
        if event.get("room") is None and self.user is not None:
            # Off this handler and after a grace: a password change by this very
            # session stores its new hash just after the event (rooms/consumers.py).
            asyncio.get_running_loop().create_task(self._check_later())

    async def _check_later(self) -> None:
        await asyncio.sleep(SESSION_UPDATE_GRACE_SECONDS)
        await self._still_allowed()

    async def user_close(self, event) -> None:
        pass  # a room's measure: staff are never sanctioned, and this socket is in no room

    async def user_conversation(self, event) -> None:
        pass

    async def user_mention(self, event) -> None:
        pass

    async def user_relations(self, event) -> None:
        pass

    async def user_restriction(self, event) -> None:
        pass
