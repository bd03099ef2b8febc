"""Pages: the rooms list, a room, a direct conversation, the conversations list."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.refusals import RefusalCode, Refused
from rooms import actions, policy, queries
from rooms.forms import InviteForm, PrivateRoomForm
from rooms.models import (
    Block,
    ContactRequest,
    Ignore,
    Message,
    Notification,
    NotificationKind,
    Room,
    RoomInvitation,
    RoomKind,
    RoomMembership,
    RoomRole,
)
from rooms.protocol import EDIT_WINDOW_SECONDS, MAX_BODY_LENGTH, REACTION_EMOJIS, CloseCode
from rooms.text import LINK_HOSTS_WITHOUT_WARNING


def _gate(request: HttpRequest) -> HttpResponse | None:
    """The account gate as a page explaining what is missing."""
    verdict = policy.account_verdict(request.user)
    if verdict:
        return None
    age_missing = verdict.close_code == CloseCode.FORBIDDEN
    return render(
        request,
        "rooms/gate.html",
        {"age_missing": age_missing, "detail": verdict.detail},
        status=403,
    )


def _refused(
    request: HttpRequest, detail: str, status: int = 403, *, room: Room | None = None
) -> HttpResponse:
    """The refusal in words; for a ban or a kick, the decision: the measure,
    its end, the statement of reasons and the appeal (rooms/_restriction.html)."""
    restriction = policy.restriction(request.user, room) if room is not None else None
    return render(
        request,
        "rooms/refused.html",
        {"detail": detail, "restriction": restriction},
        status=status,
    )


SEARCH_MAX_LENGTH = 100


@login_required
@require_GET
def room_list(request: HttpRequest) -> HttpResponse:
    """Public rooms by theme and text (?theme=, ?q=: a plain GET form, so that
    it works without JavaScript), then the user's own rooms and conversations."""
    if response := _gate(request):
        return response
    search = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    themes = queries.room_themes()
    theme = request.GET.get("theme", "").strip()
    # An unknown theme filters nothing rather than showing an empty page.
    theme = next((known for known in themes if known.lower() == theme.lower()), "")
    rooms = list(queries.room_directory(request.user, search=search, theme=theme))
    return render(
        request,
        "rooms/room_list.html",
        {
            "rooms": rooms,
            "themes": themes,
            "search": search,
            "theme": theme,
            "filtered": bool(search or theme),
            "room_list_strings": {
                "count": plural_forms(lambda n: ngettext("%(count)d salon", "%(count)d salons", n)),
                "none": _("Aucun salon ne correspond à cette recherche."),
            },
            "conversations": queries.conversations(request.user),
            "private_room_form": PrivateRoomForm(),
        },
    )


@login_required
@require_POST
def create_private_room(request: HttpRequest) -> HttpResponse:
    if response := _gate(request):
        return response
    form = PrivateRoomForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("rooms:list")
    name = form.cleaned_data["name"]
    room = actions.do_create_room(
        actor=request.user,
        kind=RoomKind.PRIVATE,
        slug=actions.unique_slug(slugify(name)[:60] or "salon"),
        name=name,
        description=form.cleaned_data["description"],
    )
    return redirect(room.get_absolute_url())


@login_required
@require_POST
def invite_to_room(request: HttpRequest, slug: str) -> HttpResponse:
    if response := _gate(request):
        return response
    room = get_object_or_404(Room, slug=slug, kind=RoomKind.PRIVATE)
    if not policy.can_read(request.user, room):
        raise Http404
    form = InviteForm(request.POST)
    invitee = queries.find_user(form.cleaned_data["username"]) if form.is_valid() else None
    if invitee is None:
        messages.error(request, _("Aucun membre ne porte ce pseudonyme."))
        return redirect(room.get_absolute_url())
    try:
        actions.do_invite_to_room(room, invitee, actor=request.user)
    except Refused as refusal:
        messages.error(request, refusal.detail)
    else:
        messages.success(request, _("Invitation envoyée à %(name)s.") % {"name": invitee.username})
    return redirect(room.get_absolute_url())


def _chat_strings() -> dict:
    """The texts static/js/chat.js shows, translated for this request."""
    return {
        "connecting": _("Connexion…"),
        "connected": _("Connecté"),
        "reconnecting": _("Connexion perdue, reconnexion…"),
        "paused": _("Déconnecté"),
        "refused_auth": _("Connectez-vous avec une adresse e-mail vérifiée pour discuter."),
        "refused_forbidden": _("Vous n'avez pas accès à ce salon."),
        "refused_missing": _("Ce salon n'existe pas ou plus."),
        "refused_too_many": _(
            "Trop de connexions ouvertes pour votre compte : fermez d'autres onglets, "
            "puis rechargez la page."
        ),
        "pending": _("Envoi…"),
        "failed": _("Non envoyé"),
        "retry": _("Réessayer"),
        "discard": _("Abandonner"),
        "timeout": _("Le serveur n'a pas confirmé l'envoi : nouvelle tentative à la reconnexion."),
        "too_long": _("Un message fait au plus %(max)d caractères.") % {"max": MAX_BODY_LENGTH},
        "deleted": _("Message supprimé"),
        "report": _("Signaler"),
        "report_message": _("Signaler le message de %(name)s"),
        "block_confirm": _(
            "Bloquer cette personne ? Elle ne pourra plus vous écrire en privé et ses messages "
            "seront repliés dans les salons publics. Elle n'en est pas prévenue ; votre "
            "conversation reste lisible, fermée. Vous pourrez la débloquer."
        ),
        "unblock": _("Débloquer"),
        "closed": _("Cette conversation est fermée : l'historique reste lisible."),
        "blocked_message": _("Message de %(name)s (personne bloquée) : afficher"),
        "block_failed": _("Le blocage a échoué, réessayez."),
        "new_messages": _("Nouveaux messages"),
        "card_failed": _("Ce profil n'est pas disponible."),
        "loading": _("Chargement…"),
        "member_since": _("Membre depuis le %(date)s"),
        "blocked_person": _("Vous bloquez cette personne."),
        "online": plural_forms(
            lambda n: ngettext("%(count)d personne en ligne", "%(count)d personnes en ligne", n)
        ),
        "members": plural_forms(lambda n: ngettext("%(count)d membre", "%(count)d membres", n)),
        "composer_locked": _("%(measure)s : vous ne pouvez pas écrire ici pour l'instant."),
        # static/js/chat-features.js
        "edited": _("modifié"),
        "reply": _("Répondre"),
        "reply_to_name": _("Répondre à %(name)s"),
        "reply_quote": _("En réponse à %(name)s : aller au message"),
        "replying_to": _("En réponse à %(name)s :"),
        "react": _("Réagir"),
        "react_label": _("Ajouter une réaction"),
        "react_with": _("Réagir avec %(emoji)s"),
        "reactions": _("Réactions"),
        "reaction_count": _("%(emoji)s : %(count)s, cliquer pour ajouter ou retirer la vôtre"),
        "edit": _("Modifier"),
        "edit_label": _("Modifier votre message"),
        "delete": _("Supprimer"),
        "delete_label": _("Supprimer votre message"),
        "delete_confirm": _("Supprimer ce message ? Il disparaîtra pour tout le monde."),
        "save": _("Enregistrer"),
        "cancel": _("Annuler"),
        "offline": _("Hors connexion : réessayez dans un instant."),
        "typing_one": _("%(name)s écrit…"),
        "typing_many": _("%(names)s écrivent…"),
        "leaving": _("Vous quittez Chatsite pour %(host)s. Continuer ?"),
        "original_gone": _("Le message d'origine n'est plus disponible."),
        "ignored_message": _("Message de %(name)s (personne ignorée) : afficher"),
        "ignore": _("Ignorer"),
        "unignore": _("Ne plus ignorer"),
        "ignore_failed": _("L'opération a échoué, réessayez."),
        "searching": _("Recherche…"),
        "search_none": _("Aucun message trouvé."),
        "search_failed": _("La recherche a échoué, réessayez."),
        "search_count": _("%(count)s résultats affichés"),
    }


def _features_config(user) -> dict:
    """The settings of static/js/chat-features.js for this reader."""
    return {
        "emojis": list(REACTION_EMOJIS),
        "allowed_hosts": list(LINK_HOSTS_WITHOUT_WARNING),
        "edit_window_seconds": EDIT_WINDOW_SECONDS,
        "ignored": list(
            Ignore.objects.filter(ignorer=user)
            .order_by("ignored__username")
            .values_list("ignored__username", flat=True)
        ),
        # Their messages are folded in public rooms, as the block's confirmation says.
        "blocked": list(
            Block.objects.filter(blocker=user)
            .order_by("blocked__username")
            .values_list("blocked__username", flat=True)
        ),
    }


def plural_forms(text) -> dict[str, str]:
    """A count's text for JavaScript, keyed by Intl.PluralRules category: the
    catalogue's own plural forms, picked in the browser by count. `text` calls
    ngettext (so that makemessages finds both forms): "one" is its text for 1,
    "other" its text for many."""
    return {"one": text(1), "other": text(2)}


def rules_url() -> str | None:
    """The site rules page, once the content app provides it."""
    try:
        return reverse("rules")
    except NoReverseMatch:
        return None


def _latest_id(room: Room) -> int:
    """A newcomer has missed nothing: what is there is not "new" to them."""
    latest = Message.objects.filter(room=room).order_by("-id").values_list("id", flat=True)
    return latest.first() or 0


def _chat_context(request: HttpRequest, room: Room, *, membership=None, **extra) -> dict:
    """What the room page needs: the room with its counts, where the reader
    stopped reading (for the "new messages" divider) and the texts of chat.js."""
    membership = membership or policy.membership(request.user, room)
    counted = queries.with_counts(Room.objects.filter(pk=room.pk)).first()
    restriction = policy.restriction(request.user, room)
    return {
        "room": room,
        "member_count": counted.member_count,
        "online_count": counted.online_count,
        "last_read": membership.last_read_message_id if membership else _latest_id(room),
        "membership": membership,
        "rules_url": rules_url(),
        "max_body_length": MAX_BODY_LENGTH,
        "chat_strings": _chat_strings(),
        "chat_features": _features_config(request.user),
        # Shown at once, then kept up to date by the socket's `restriction` frames.
        "restriction": restriction,
        "restriction_frame": restriction.as_frame() if restriction else None,
        # The room's own, or more while a raid mode raises it (policy.effective_slow_mode).
        "slow_mode_seconds": policy.effective_slow_mode(room),
        **extra,
    }


@login_required
@require_GET
def room_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A room's page. Reading it changes nothing: a public room's newcomer
    becomes a member when the room's socket opens (rooms.actions.do_enter_room,
    behind the exact Origin check), never because a page was fetched."""
    if response := _gate(request):
        return response
    room = get_object_or_404(Room, slug=slug)
    if room.is_direct:
        # Only a participant learns who the other one is: anyone else who
        # knows the slug gets the same 404 as for a room that does not exist.
        if policy.membership(request.user, room) is None:
            raise Http404
        partner = policy.direct_partner(room, request.user)
        if partner is None:
            raise Http404
        return redirect("rooms:direct", username=partner.username)
    verdict = policy.can_read(request.user, room)
    if not verdict:
        if verdict.close_code == CloseCode.NOT_FOUND:
            raise Http404
        return _refused(request, verdict.detail, room=room)
    membership = policy.membership(request.user, room)
    can_invite = room.kind == RoomKind.PRIVATE and policy.is_room_staff(request.user, room)
    return render(
        request,
        "rooms/room.html",
        _chat_context(
            request,
            room,
            membership=membership,
            first_visit=membership is None,
            title=room.name,
            invite_form=InviteForm() if can_invite else None,
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def direct_room(request: HttpRequest, username: str) -> HttpResponse:
    """The conversation with `username`. GET shows it when it exists, else a
    button to start it; only that button's POST (or POST /api/dm/) creates the
    room and its contact request, so that no cross-site link can make anyone
    write to someone (and so become their "contact")."""
    if response := _gate(request):
        return response
    other = queries.find_user(username)
    if other is None:
        raise Http404
    if other.username != username:
        return redirect("rooms:direct", username=other.username)
    if request.method == "POST":
        try:
            actions.do_open_direct_room(other, actor=request.user)
        except Refused as refusal:
            if refusal.code == RefusalCode.NOT_FOUND:
                raise Http404 from None
            return _refused(request, refusal.detail)
        return redirect("rooms:direct", username=other.username)
    room = queries.direct_room(request.user, other)
    if room is None:
        return _start_direct_room(request, other)
    held = policy.held_for(room, request.user)
    if held is not None:
        if policy.is_blocked_between(request.user, other):
            return _refused(request, _("Cette conversation est fermée."))
        first = queries.visible_messages(room).filter(author=held.sender_id).first()
        return render(
            request, "rooms/contact_request.html", {"contact_request": held, "first_message": first}
        )
    verdict = policy.can_read(request.user, room)
    if not verdict:
        return _refused(request, verdict.detail, room=room)
    outgoing = ContactRequest.objects.filter(room=room, sender=request.user).first()
    # A block keeps the history readable: the blocker may lift it here; the
    # other side reads only that the conversation is closed (docs/protocol.md, "Blocks").
    closed = policy.is_blocked_between(request.user, other)
    return render(
        request,
        "rooms/room.html",
        _chat_context(
            request,
            room,
            title=other.username,
            partner=other,
            awaiting_answer=outgoing is not None and not outgoing.is_accepted and not closed,
            closed=closed,
            blocking=closed and Block.objects.filter(blocker=request.user, blocked=other).exists(),
        ),
    )


def _start_direct_room(request: HttpRequest, other) -> HttpResponse:
    """No conversation yet: what starting one would do, and the button (a POST)."""
    if other.pk == request.user.pk:
        return _refused(request, _("Vous ne pouvez pas vous écrire à vous-même."), status=400)
    verdict = policy.direct_message_verdict(request.user, other, None)
    if not verdict:
        return _refused(request, verdict.detail)
    return render(request, "rooms/direct_start.html", {"partner": other})


@login_required
@require_GET
def open_direct_room(request: HttpRequest) -> HttpResponse:
    """The rooms page's "write to" form: /dm/?username=bob -> /dm/bob/."""
    username = request.GET.get("username", "").strip()
    if not username:
        return redirect("rooms:list")
    # Only an existing member's own pseudonym goes into the URL: anything
    # else (a "/", a name nobody has) comes back to the list with a message.
    other = queries.find_user(username)
    if other is None:
        messages.error(request, _("Aucun membre ne porte ce pseudonyme."))
        return redirect("rooms:list")
    return redirect("rooms:direct", username=other.username)


def _inbox_context(user) -> dict:
    return {
        "conversations": queries.conversations(user),
        "contact_requests": queries.pending_contact_requests(user),
        "invitations": queries.pending_invitations(user),
    }


@login_required
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    if response := _gate(request):
        return response
    return render(
        request,
        "rooms/conversations.html",
        {
            **_inbox_context(request.user),
            "conversation_strings": {
                "new_messages": _("Nouveaux messages dans vos conversations.")
            },
        },
    )


@login_required
@require_GET
def conversations_fragment(request: HttpRequest) -> HttpResponse:
    """The live part of /conversations/ alone, for static/js/conversations.js."""
    if response := _gate(request):
        return response
    return render(request, "rooms/_inbox.html", _inbox_context(request.user))


CONTACT_DECISIONS = ("accept", "ignore", "block")


@login_required
@require_POST
def answer_contact_request(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    if response := _gate(request):
        return response
    contact_request = get_object_or_404(ContactRequest, pk=pk, recipient=request.user)
    if decision not in CONTACT_DECISIONS:
        raise Http404
    try:
        if decision == "accept":
            actions.do_accept_contact_request(contact_request, actor=request.user)
            return redirect("rooms:direct", username=contact_request.sender.username)
        if decision == "ignore":
            actions.do_ignore_contact_request(contact_request, actor=request.user)
            messages.info(request, _("Demande ignorée. Cette personne n'en saura rien."))
        else:
            actions.do_block_user(contact_request.sender, actor=request.user)
            messages.info(request, _("Cette personne est bloquée."))
    except Refused as refusal:
        messages.error(request, refusal.detail)
    return redirect("rooms:conversations")


@login_required
@require_POST
def answer_invitation(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    if response := _gate(request):
        return response
    invitation = get_object_or_404(RoomInvitation, pk=pk, invitee=request.user)
    if decision not in ("accept", "decline"):
        raise Http404
    actions.do_answer_invitation(invitation, actor=request.user, accept=decision == "accept")
    if decision == "accept":
        return redirect(invitation.room.get_absolute_url())
    return redirect(reverse("rooms:conversations"))


def _next_url(request: HttpRequest, default: str) -> str:
    """Where a form sends the member back: a path of this site only."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _member_room(request: HttpRequest, slug: str) -> tuple[Room, RoomMembership]:
    room = get_object_or_404(Room, slug=slug)
    if not policy.can_read(request.user, room):
        raise Http404
    membership = policy.membership(request.user, room)
    if membership is None:
        raise Http404
    return room, membership


@login_required
@require_POST
def mute_room(request: HttpRequest, slug: str) -> HttpResponse:
    """The room page's and the conversations list's "Mettre en sourdine" /
    "Réactiver les notifications" button (a form: works without JavaScript)."""
    if response := _gate(request):
        return response
    room, _membership = _member_room(request, slug)
    muted = request.POST.get("muted") == "1"
    actions.do_set_room_muted(room, muted, actor=request.user)
    if muted:
        messages.info(
            request,
            _("« %(name)s » est en sourdine : ni compteur ni notification.")
            % {"name": _name(room, request.user)},
        )
    else:
        messages.info(
            request,
            _("Notifications réactivées pour « %(name)s ».") % {"name": _name(room, request.user)},
        )
    return redirect(_next_url(request, room.get_absolute_url()))


def _name(room: Room, user) -> str:
    if room.is_direct:
        partner = policy.direct_partner(room, user)
        return partner.username if partner is not None else room.slug
    return room.name


@login_required
@require_http_methods(["GET", "POST"])
def leave_room(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: what leaving does, and the confirmation (for the owner of a private
    room: whom to hand it to, or archiving when alone). POST: leaves."""
    if response := _gate(request):
        return response
    room, membership = _member_room(request, slug)
    if room.is_direct:
        raise Http404
    is_owner = room.kind == RoomKind.PRIVATE and membership.role == RoomRole.OWNER
    others = list(
        RoomMembership.objects.filter(room=room)
        .exclude(user=request.user)
        .filter(user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    error = ""
    if request.method == "POST":
        successor = None
        if is_owner and others:
            name = request.POST.get("successor", "")
            successor = next((m.user for m in others if m.user.username == name), None)
            if successor is None:
                error = _("Choisissez le membre à qui transmettre le salon.")
        if not error:
            try:
                outcome = actions.do_leave_membership(room, actor=request.user, successor=successor)
            except Refused as refusal:
                error = refusal.detail
            else:
                done = {
                    "left": _("Vous avez quitté « %(name)s »."),
                    "handed_over": _(
                        "Vous avez quitté « %(name)s » et l'avez transmis à %(successor)s."
                    ),
                    "archived": _("Vous avez quitté et archivé « %(name)s »."),
                }[outcome]
                messages.success(
                    request,
                    done
                    % {"name": room.name, "successor": successor.username if successor else ""},
                )
                return redirect("rooms:list")
    return render(
        request,
        "rooms/leave.html",
        {
            "room": room,
            "is_owner": is_owner,
            "others": others,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def room_members(request: HttpRequest, slug: str) -> HttpResponse:
    """The members of a room and their roles; its owner names or dismisses
    its moderators here (POST: username, moderator=1|0). Plain forms."""
    if response := _gate(request):
        return response
    room, membership = _member_room(request, slug)
    if room.is_direct:
        raise Http404
    is_owner = membership.role == RoomRole.OWNER
    if request.method == "POST":
        member = next(
            (
                m.user
                for m in RoomMembership.objects.filter(
                    room=room, user__username=request.POST.get("username", "")
                ).select_related("user")
            ),
            None,
        )
        moderator = request.POST.get("moderator") == "1"
        try:
            actions.do_set_room_moderator(room, member, moderator, actor=request.user)
        except Refused as refusal:
            messages.error(request, refusal.detail)
        else:
            done = (
                _("%(name)s modère désormais « %(room)s ».")
                if moderator
                else _("%(name)s ne modère plus « %(room)s ».")
            )
            messages.success(request, done % {"name": member.username, "room": room.name})
        return redirect("rooms:members", slug=room.slug)
    members = (
        RoomMembership.objects.filter(room=room, user__is_active=True)
        .select_related("user")
        .order_by("-role", "user__username")  # owner, moderators, members
    )
    return render(
        request,
        "rooms/members.html",
        {"room": room, "members": members, "is_owner": is_owner, "me": request.user.pk},
    )


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The member's notifications, newest first; opening one marks it read."""
    if response := _gate(request):
        return response
    return render(
        request,
        "rooms/notifications.html",
        {
            "notifications": queries.notifications(request.user),
            "unread_count": Notification.objects.filter(
                user=request.user, read_at__isnull=True
            ).count(),
        },
    )


def notification_target(notification: Notification) -> str:
    """Where opening a notification leads."""
    kind = notification.kind
    requests = (NotificationKind.CONTACT_REQUEST, NotificationKind.CONTACT_ACCEPTED)
    if kind in requests and notification.actor is not None:
        return reverse("rooms:direct", kwargs={"username": notification.actor.username})
    if kind == NotificationKind.INVITATION:
        return reverse("rooms:conversations") + "#invitations-title"
    if notification.room is not None:
        url = notification.room.get_absolute_url()
        if notification.message_id is not None:
            url += f"#message-{notification.message_id}"
        return url
    return reverse("rooms:notifications")


@login_required
@require_POST
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    if response := _gate(request):
        return response
    notification = get_object_or_404(
        Notification.objects.select_related("actor", "room"), pk=pk, user=request.user
    )
    actions.do_mark_notifications_read(actor=request.user, ids=[notification.pk])
    return redirect(notification_target(notification))


@login_required
@require_POST
def read_notifications(request: HttpRequest) -> HttpResponse:
    if response := _gate(request):
        return response
    actions.do_mark_notifications_read(actor=request.user)
    return redirect("rooms:notifications")
