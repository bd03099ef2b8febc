"""The JSON API of rooms (docs/protocol.md): session-authenticated, CSRF-checked
for unsafe methods, and always JSON, never a redirect to the login page."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from accounts.records import request_carrier
from core.jsonapi import error, json_object, json_view
from core.refusals import RefusalCode, Refused
from rooms import actions, policy, queries, search
from rooms.models import Message, Room
from rooms.protocol import (
    DEFAULT_PAGE_LIMIT,
    MAX_PAGE_LIMIT,
    SEARCH_MIN_QUERY,
    SEARCH_PAGE_LIMIT,
    CloseCode,
)
from rooms.queries import find_user
from rooms.text import message_json


def member_gate(request: HttpRequest) -> JsonResponse | None:
    """The account gate of accounts/gates.py: 401 not signed in, 403 otherwise."""
    verdict = policy.account_verdict(request.user)
    if verdict:
        return None
    if verdict.close_code == CloseCode.NOT_AUTHENTICATED:
        return error(401, RefusalCode.NOT_AUTHENTICATED, verdict.detail)
    return error(403, RefusalCode.FORBIDDEN, verdict.detail)


def api_view(*methods: str) -> Callable:
    """Allowed methods, the account gate (401/403 as JSON) and CSRF."""
    return json_view(*methods, gate=member_gate)


def _user_named(username) -> object:
    if not isinstance(username, str) or not username:
        raise Refused(RefusalCode.INVALID, _("Le champ username est requis."))
    user = find_user(username)
    if user is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Utilisateur introuvable."))
    return user


def _int_param(request: HttpRequest, name: str, default: int | None = None) -> int | None:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Refused(
            RefusalCode.INVALID, _("%(name)s doit être un entier.") % {"name": name}
        ) from None
    if value < 0:
        raise Refused(RefusalCode.INVALID, _("%(name)s doit être positif.") % {"name": name})
    return value


def room_json(room: Room, *, unread: int | None = None, partner=None) -> dict:
    data = {
        "slug": room.slug,
        "name": partner.username if partner is not None else room.name,
        "kind": room.kind,
        "description": room.description,
        "theme": room.theme,
        "rules": room.rules,
        "slow_mode_seconds": policy.effective_slow_mode(room),
    }
    if partner is not None:
        data["with"] = partner.username
    if unread is not None:
        data["unread"] = unread
    # Annotated by queries.with_counts (public rooms of GET /api/rooms/).
    for count in ("member_count", "online_count"):
        if hasattr(room, count):
            data[count] = getattr(room, count)
    return data


def conversation_json(conversation: queries.Conversation) -> dict:
    """A conversation of the list: its room, unread count (0 while muted),
    whether it is muted, whether the reader's own request awaits an answer,
    and its latest visible message (`excerpt` empty when `folded`)."""
    data = room_json(conversation.room, unread=conversation.unread, partner=conversation.partner)
    data["muted"] = conversation.muted
    data["awaiting_answer"] = conversation.awaiting_answer
    last = conversation.last_message
    data["last_message"] = last.as_json() if last is not None else None
    return data


@api_view("GET")
def rooms_list(request: HttpRequest) -> JsonResponse:
    rooms = [room_json(room) for room in queries.with_counts(queries.public_rooms())]
    rooms += [
        room_json(c.room, unread=c.unread, partner=c.partner)
        for c in queries.conversations(request.user)
    ]
    return JsonResponse({"rooms": rooms})


@api_view("GET")
def room_messages(request: HttpRequest, slug: str) -> JsonResponse:
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        return error(404, "not_found", _("Ce salon n'existe pas."))
    verdict = policy.can_read(request.user, room)
    if not verdict:
        status = 404 if verdict.close_code == CloseCode.NOT_FOUND else 403
        return error(status, "not_found" if status == 404 else "forbidden", verdict.detail)
    limit = _int_param(request, "limit", DEFAULT_PAGE_LIMIT)
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        return error(400, "invalid", _("limit va de 1 à %(max)d.") % {"max": MAX_PAGE_LIMIT})
    messages = queries.messages_page(
        room,
        after=_int_param(request, "after"),
        before=_int_param(request, "before"),
        limit=limit,
    )
    # Reading history changes nothing (no write on GET): the page marks what
    # was seen with POST .../read/, the socket what arrives live.
    return JsonResponse(
        {
            "messages": [message_json(message) for message in messages],
            # The reader's own reactions on these messages, for the pressed buttons.
            "my_reactions": {
                str(message_id): emojis
                for message_id, emojis in queries.my_reactions(
                    request.user, [m.id for m in messages]
                ).items()
            },
        }
    )


def _readable_room(request: HttpRequest, slug: str) -> Room:
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Ce salon n'existe pas."))
    verdict = policy.can_read(request.user, room)
    if not verdict:
        if verdict.close_code == CloseCode.NOT_FOUND:
            raise Refused(RefusalCode.NOT_FOUND, verdict.detail)
        raise Refused(RefusalCode.FORBIDDEN, verdict.detail)
    return room


@api_view("POST")
def mark_read(request: HttpRequest, slug: str) -> JsonResponse:
    """The reader has seen the room up to a message: the room page calls this
    as messages scroll into view (history included: GET never marks)."""
    room = _readable_room(request, slug)
    up_to = json_object(request).get("up_to")
    if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 0:
        raise Refused(RefusalCode.INVALID, _("up_to doit être un identifiant de message."))
    # Never past the room's latest message: a mark beyond it would hide what comes next.
    latest = Message.objects.filter(room=room).order_by("-id").values_list("id", flat=True).first()
    mark = actions.do_mark_room_read(room, actor=request.user, up_to_id=min(up_to, latest or 0))
    membership = policy.membership(request.user, room)
    return JsonResponse({"last_read": membership.last_read_message_id if membership else mark})


@api_view("GET")
def user_card(request: HttpRequest, username: str) -> JsonResponse:
    """A member's profile card: pseudonym, account age, verified badge. Never
    the birth date nor the e-mail; nothing at all for someone who blocks you."""
    card = queries.profile_card(request.user, username)
    if card is None:
        return error(404, "not_found", _("Utilisateur introuvable."))
    return JsonResponse(card.as_json())


@api_view("POST")
def open_direct_room(request: HttpRequest) -> JsonResponse:
    other = _user_named(json_object(request).get("username"))
    room = actions.do_open_direct_room(other, actor=request.user)
    return JsonResponse({"room": room.slug})


@api_view("GET", "POST")
def blocks(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        names = request.user.blocks_made.order_by("blocked__username").values_list(
            "blocked__username", flat=True
        )
        return JsonResponse({"blocked": list(names)})
    target = _user_named(json_object(request).get("username"))
    actions.do_block_user(target, actor=request.user)
    return JsonResponse({"blocked": target.username}, status=201)


@api_view("DELETE")
def unblock(request: HttpRequest, username: str) -> HttpResponse:
    target = _user_named(username)
    actions.do_unblock_user(target, actor=request.user)
    return HttpResponse(status=204)


@api_view("PATCH", "DELETE")
def message_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    """The author edits (PATCH {"body"}) or deletes their message; anyone
    else gets 403 `forbidden`, an unknown or deleted message 404."""
    if request.method == "DELETE":
        actions.do_delete_own_message(message_id, actor=request.user, via=request_carrier(request))
        return HttpResponse(status=204)
    message = actions.do_edit_message(
        message_id,
        json_object(request).get("body"),
        actor=request.user,
        via=request_carrier(request),
    )
    return JsonResponse(message_json(message))


@api_view("GET", "POST")
def message_reactions(request: HttpRequest, message_id: int) -> JsonResponse:
    """GET: who reacted with what ({"reactions": {emoji: [username, ...]}});
    POST {"emoji"}: adds the user's reaction, answers the counts."""
    if request.method == "POST":
        counts = actions.do_react(
            message_id, json_object(request).get("emoji"), actor=request.user, add=True
        )
        return JsonResponse({"id": message_id, "counts": counts})
    message = Message.objects.filter(pk=message_id, deleted_at__isnull=True).first()
    if message is None or not policy.can_join(request.user, message.room):
        return error(404, "not_found", _("Ce message n'existe pas ou plus."))
    return JsonResponse({"id": message_id, "reactions": queries.reactors(message)})


@api_view("DELETE")
def message_reaction(request: HttpRequest, message_id: int, emoji: str) -> JsonResponse:
    counts = actions.do_react(message_id, emoji, actor=request.user, add=False)
    return JsonResponse({"id": message_id, "counts": counts})


@api_view("GET")
def search_messages(request: HttpRequest) -> JsonResponse:
    """GET /api/search/?q=<text>[&room=<slug>][&before=<id>][&limit=<n>]:
    newest first, with each hit's highlighted ranges and the next page's `before`."""
    text = request.GET.get("q", "").strip()
    if len(text) < SEARCH_MIN_QUERY:
        return error(
            400,
            "invalid",
            _("Cherchez au moins %(min)d caractères.") % {"min": SEARCH_MIN_QUERY},
        )
    if len(text) > 200:
        return error(400, "too_long", _("Recherche trop longue (200 caractères au plus)."))
    room = None
    if slug := request.GET.get("room"):
        room = _readable_room(request, slug)
        if not policy.can_join(request.user, room):
            raise Refused(RefusalCode.FORBIDDEN, _("Vous n'avez pas accès à ce salon."))
    limit = _int_param(request, "limit", 20)
    if not 1 <= limit <= SEARCH_PAGE_LIMIT:
        return error(400, "invalid", _("limit va de 1 à %(max)d.") % {"max": SEARCH_PAGE_LIMIT})
    hits, next_before = search.search_messages(
        request.user, text, room=room, before=_int_param(request, "before"), limit=limit
    )
    return JsonResponse(
        {
            "messages": [
                {**message_json(hit.message), "highlights": hit.highlights} for hit in hits
            ],
            "next_before": next_before,
        }
    )


@api_view("GET", "POST")
def ignores(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        names = request.user.ignores_made.order_by("ignored__username").values_list(
            "ignored__username", flat=True
        )
        return JsonResponse({"ignored": list(names)})
    target = _user_named(json_object(request).get("username"))
    actions.do_ignore_user(target, actor=request.user)
    return JsonResponse({"ignored": target.username}, status=201)


@api_view("DELETE")
def unignore(request: HttpRequest, username: str) -> HttpResponse:
    target = _user_named(username)
    actions.do_unignore_user(target, actor=request.user)
    return HttpResponse(status=204)


@api_view("GET")
def conversations(request: HttpRequest) -> JsonResponse:
    """The conversations page's data: unread counts, requests, invitations."""
    user = request.user
    return JsonResponse(
        {
            "conversations": [conversation_json(c) for c in queries.conversations(user)],
            "requests": [
                {
                    "id": request_.id,
                    "from": request_.sender.username,
                    "account_created": request_.sender.date_joined.isoformat(),
                    "account_age_days": request_.sender_account_days,
                    "first_message": message_json(request_.first_message),
                }
                for request_ in queries.pending_contact_requests(user)
            ],
            # Mentions of the user that they may still read, newest first.
            "mentions": [message_json(message) for message in queries.recent_mentions(user)],
            "invitations": [
                {
                    "id": invitation.id,
                    "room": room_json(invitation.room),
                    "from": invitation.invited_by.username if invitation.invited_by else None,
                }
                for invitation in queries.pending_invitations(user)
            ],
        }
    )


@api_view("GET")
def inbox(request: HttpRequest) -> JsonResponse:
    """The navigation's counts: unread messages of conversations not muted
    (and per direct partner), contact requests, invitations, notifications."""
    return JsonResponse(queries.inbox_counts(request.user).as_json())


def _member_room(request: HttpRequest, slug: str) -> Room:
    room = _readable_room(request, slug)
    if policy.membership(request.user, room) is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Vous n'êtes pas membre de ce salon."))
    return room


@api_view("POST")
def mute_room(request: HttpRequest, slug: str) -> JsonResponse:
    """{"muted": true|false}: no unread count and no notification while muted."""
    muted = json_object(request).get("muted")
    if not isinstance(muted, bool):
        raise Refused(RefusalCode.INVALID, _("muted doit valoir true ou false."))
    membership = actions.do_set_room_muted(_member_room(request, slug), muted, actor=request.user)
    return JsonResponse({"room": slug, "muted": membership.muted})


@api_view("POST")
def set_room_moderator(request: HttpRequest, slug: str) -> JsonResponse:
    """The owner names a member a moderator of the room, or takes it back:
    {"username": "...", "moderator": true|false}."""
    data = json_object(request)
    moderator = data.get("moderator")
    if not isinstance(moderator, bool):
        raise Refused(RefusalCode.INVALID, _("moderator doit valoir true ou false."))
    member = _user_named(data.get("username"))
    membership = actions.do_set_room_moderator(
        _member_room(request, slug), member, moderator, actor=request.user
    )
    return JsonResponse({"room": slug, "username": member.username, "role": membership.role})


@api_view("POST")
def leave_room(request: HttpRequest, slug: str) -> JsonResponse:
    """Leaves a public or private room; the owner of a private room names a
    member as `successor` (or, alone, archives it by leaving)."""
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Ce salon n'existe pas."))
    successor = json_object(request).get("successor")
    successor = _user_named(successor) if successor is not None else None
    outcome = actions.do_leave_membership(room, actor=request.user, successor=successor)
    return JsonResponse({"room": slug, "outcome": outcome})


def notification_json(notification) -> dict:
    message = notification.message
    return {
        "id": notification.id,
        "kind": notification.kind,
        "actor": notification.actor.username if notification.actor else None,
        "room": notification.room.slug if notification.room else None,
        "message": message_json(message) if message is not None else None,
        "created": notification.created.isoformat(),
        "read": notification.read_at is not None,
    }


NOTIFICATION_IDS_MAX = 200


@api_view("GET", "POST")
def notifications(request: HttpRequest) -> JsonResponse:
    """GET: the latest notifications, newest first. POST {"ids": [...]} marks
    those read, {} all of them."""
    if request.method == "GET":
        found = queries.notifications(request.user)
        return JsonResponse({"notifications": [notification_json(n) for n in found]})
    ids = json_object(request).get("ids")
    if ids is not None and (
        not isinstance(ids, list)
        or len(ids) > NOTIFICATION_IDS_MAX
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        raise Refused(RefusalCode.INVALID, _("ids doit être une liste d'identifiants."))
    changed = actions.do_mark_notifications_read(actor=request.user, ids=ids)
    return JsonResponse({"marked_read": changed})
