"""The rooms back office. Changes go through rooms/actions/, like the API's.

Where the line runs (docs/audit.md): the messages of public rooms, which any
verified adult member can read, are listed without a stated reason
(`MessageAdmin`, PUBLIC_CONTENT). Private rooms' messages have their own list
(`PrivateRoomMessageAdmin`), and direct conversations are shown only on a
direct room's own page (`DirectConversationAdmin`): both behind a stated
reason, each look recorded with the rooms and authors it showed (audit/looks.py).
Every other page here shows people (members, blocks, invitations) and is gated
by default.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from audit.access import LOOK, ReasonRequiredAdminMixin, mark_look_recorded
from audit.actions import do_record_staff_access
from audit.events import AuditEvent
from audit.looks import LookPolicy
from audit.trail import request_ip
from core.admin import ReadOnlyAdminMixin
from core.refusals import Refused
from rooms import actions
from rooms.app_settings import app_settings
from rooms.models import (
    Block,
    ContactRequest,
    DirectConversation,
    Message,
    MessagePresence,
    MessageVersion,
    PrivateRoomMessage,
    Room,
    RoomInvitation,
    RoomKind,
    RoomMembership,
    RoomRole,
)
from rooms.presence_history import WINDOW_MINUTES, present_around

TRANSCRIPT_LIMIT = 500


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}), min_length=3, max_length=1000
    )


def reason_action(modeladmin, request, queryset, *, title: str, apply) -> TemplateResponse | None:
    """An admin action that first asks for a reason, then applies `apply(obj, reason)`."""
    if "apply" in request.POST:
        form = ReasonForm(request.POST)
        if form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    apply(obj, form.cleaned_data["reason"])
                    done += 1
                except Refused as refusal:
                    modeladmin.message_user(request, f"{obj}: {refusal.detail}", messages.ERROR)
            modeladmin.message_user(request, _("%(count)d élément(s) traité(s).") % {"count": done})
            return None
    else:
        form = ReasonForm()
    return TemplateResponse(
        request,
        "admin/rooms/reason_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": request.POST.get("action"),
            "opts": modeladmin.model._meta,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        },
    )


class RoomMembershipForm(forms.ModelForm):
    """A row added for someone who is already a plain member of a public room
    (those memberships are not listed, see below) changes that membership's
    role instead of failing as a duplicate."""

    class Meta:
        model = RoomMembership
        fields = ["user", "role"]

    def validate_unique(self):
        user = self.cleaned_data.get("user")
        if self.instance._state.adding and user is not None and self.instance.room_id:
            hidden = RoomMembership.objects.filter(
                room_id=self.instance.room_id,
                room__kind=RoomKind.PUBLIC,
                user=user,
                role=RoomRole.MEMBER,
            ).first()
            if hidden is not None:
                # Saved as an update of that row: same id, same joined_at.
                self.instance.pk, self.instance.joined_at = hidden.pk, hidden.joined_at
                self.instance._state.adding = False
        super().validate_unique()


class RoomMembershipInline(admin.TabularInline):
    model = RoomMembership
    form = RoomMembershipForm
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "joined_at"]
    readonly_fields = ["joined_at"]

    def get_queryset(self, request):
        # Everyone who opens a public room becomes a plain member of it
        # (rooms.actions.do_join_public_room): list only its owner and moderators.
        return (
            super().get_queryset(request).exclude(room__kind=RoomKind.PUBLIC, role=RoomRole.MEMBER)
        )


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["kind", "slug", "name", "description", "theme", "rules", "slow_mode_seconds"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Direct rooms are opened by their two users, never here.
        self.fields["kind"].choices = [
            (value, label) for value, label in RoomKind.choices if value != RoomKind.DIRECT
        ]
        if self.instance.pk:
            self.fields["kind"].disabled = True
            self.fields["slug"].disabled = True


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    form = RoomForm
    list_display = ["name", "slug", "kind", "theme", "slow_mode_seconds", "is_archived"]
    list_filter = ["kind", "is_archived", "theme"]
    search_fields = ["name", "slug", "theme"]
    readonly_fields = ["is_archived", "archived_at", "created_by", "created_at"]
    inlines = [RoomMembershipInline]
    actions = ["archive_rooms"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(kind=RoomKind.DIRECT)

    def has_delete_permission(self, request, obj=None):
        return False  # archive instead: messages are kept

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        room = actions.do_create_room(actor=request.user, **form.cleaned_data)
        obj.pk = room.pk
        obj.created_by = room.created_by
        obj.created_at = room.created_at
        obj._state.adding = False

    @admin.action(description=_("Archiver les salons sélectionnés"))
    def archive_rooms(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset,
            title=_("Archiver des salons"),
            apply=lambda room, reason: actions.do_archive_room(
                room, actor=request.user, reason=reason
            ),
        )


class MessageVersionInline(admin.TabularInline):
    """Earlier texts of an edited message: for staff, never shown to members."""

    model = MessageVersion
    extra = 0
    can_delete = False
    fields = ["number", "written_at", "replaced_at", "body"]
    readonly_fields = fields
    verbose_name_plural = _("historique des modifications")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Public rooms' messages: what any verified adult member can read, not gated."""

    look_policy = LookPolicy.PUBLIC_CONTENT
    shown_room_kind = RoomKind.PUBLIC
    list_display = ["id", "room", "author", "excerpt", "created", "deleted_at"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["body", "author__username", "room__slug"]
    list_select_related = ["room", "author"]
    fields = [
        "room",
        "author",
        "body",
        "created",
        "edited",
        "reply_to",
        "mentions",
        "client_id",
        "deleted_at",
        "deleted_by",
        "deletion_reason",
        "who_could_see",
    ]
    readonly_fields = fields
    inlines = [MessageVersionInline]
    # Removing messages is moderation's (a statement of reasons each):
    # moderation/admin.py registers this list with its bulk removal.
    actions = []

    def get_queryset(self, request):
        # Each list shows one kind of room: the line between gated and not is the kind.
        return super().get_queryset(request).filter(room__kind=self.shown_room_kind)

    @admin.display(description=_("texte"))
    def excerpt(self, message: Message) -> str:
        return Truncator(message.body).chars(80)

    @admin.display(description=_("qui a pu le voir"))
    def who_could_see(self, message: Message) -> str:
        # Its own page, behind its own stated reason (MessagePresenceAdmin).
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:rooms_messagepresence_change", args=[message.pk]),
            _("Personnes présentes dans le salon à ce moment"),
        )


@admin.register(PrivateRoomMessage)
class PrivateRoomMessageAdmin(MessageAdmin):
    """Private rooms' messages: a stated reason first, each list, search and message
    recorded with the rooms and authors shown (audit/looks.py)."""

    look_policy = LookPolicy.MODEL
    access_event = AuditEvent.VIEW_PRIVATE_ROOM_MESSAGES
    shown_room_kind = RoomKind.PRIVATE


@admin.register(DirectConversation)
class DirectConversationAdmin(ReasonRequiredAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    access_event = AuditEvent.VIEW_DIRECT_CONVERSATION
    list_display = ["slug", "members", "created_at", "message_count"]
    search_fields = ["slug", "memberships__user__username"]
    fields = ["slug", "members", "created_at", "contact_request_status", "transcript"]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(message_total=Count("messages", distinct=True))
            .prefetch_related("memberships__user")
        )

    def look_subjects(self, room: Room) -> tuple[list[int], list[int]]:
        # The people a conversation's page shows: its members (audit/looks.py).
        return [m.user_id for m in room.memberships.all()], [room.pk]

    @admin.display(description=_("membres"))
    def members(self, room: Room) -> str:
        return ", ".join(sorted(m.user.username for m in room.memberships.all()))

    @admin.display(description=_("messages"))
    def message_count(self, room: Room) -> int:
        return room.message_total

    @admin.display(description=_("demande de contact"))
    def contact_request_status(self, room: Room) -> str:
        request = ContactRequest.objects.filter(room=room).first()
        return request.get_status_display() if request else "—"

    @admin.display(description=_("conversation"))
    def transcript(self, room: Room) -> str:
        rows = (
            Message.objects.filter(room=room)
            .select_related("author")
            .order_by("-id")[:TRANSCRIPT_LIMIT]
        )
        # format_html_join escapes every value: message bodies stay text.
        return format_html(
            '<ol class="transcript">{}</ol>',
            format_html_join(
                "",
                "<li><strong>{}</strong> <time>{}</time>{} : {}</li>",
                (
                    (
                        m.author.username,
                        m.created.isoformat(timespec="seconds"),
                        _(" (masqué)") if m.deleted_at else "",
                        m.body,
                    )
                    for m in reversed(list(rows))
                ),
            ),
        )


@admin.register(Block)
class BlockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["blocker", "blocked", "created_at"]
    search_fields = ["blocker__username", "blocked__username"]


@admin.register(ContactRequest)
class ContactRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sender", "recipient", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["sender__username", "recipient__username"]
    fields = ["sender", "recipient", "status", "created_at", "decided_at"]


@admin.register(RoomInvitation)
class RoomInvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["room", "invitee", "invited_by", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["room__slug", "invitee__username"]


@admin.register(MessagePresence)
class MessagePresenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who had a message's room open when it was posted (docs/moderation.md, "Qui a
    pu le voir"): each message needs its own stated reason (LookPolicy.OBJECT), and
    each answer is recorded with the people it named. Reached from a message's
    page and from a report; the message's text is not shown here (its own page,
    with its own gate, shows it)."""

    look_policy = LookPolicy.OBJECT
    access_event = AuditEvent.VIEW_PRESENCE
    list_display = ["id", "room", "author", "created"]

    def has_module_permission(self, request) -> bool:
        return False  # no list of its own in the index: reached from a message

    def changelist_view(self, request, extra_context=None):
        return HttpResponseRedirect(reverse("admin:rooms_message_changelist"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        message = self.get_object(request, unquote(object_id))
        if message is None:
            raise Http404
        if not self.has_view_permission(request, message) or getattr(request, LOOK, None) is None:
            raise PermissionDenied  # the look is only ever shown behind audit/looks.py's gate
        window = _window_minutes(request.GET.get("window"))
        present = present_around(message.room, message.created, timedelta(minutes=window))
        reason = mark_look_recorded(request)
        do_record_staff_access(
            AuditEvent.VIEW_PRESENCE,
            actor=request.user,
            target_type=self.opts.label_lower,
            target_id=message.pk,
            reason=reason,
            ip_address=request_ip(request),
            details={
                "view": "rooms_messagepresence_change",
                "method": request.method,
                "rows": len(present),
                "window_minutes": window,
            },
            people={message.author_id, *(presence.user_id for presence in present)},
            rooms={message.room_id},
        )
        return TemplateResponse(
            request,
            "admin/rooms/messagepresence/present.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Qui a pu voir le message n° %(id)s") % {"id": message.pk},
                "message": message,
                "present": present,
                "at_moment": sum(1 for presence in present if presence.at_moment),
                "window": window,
                "windows": WINDOW_MINUTES,
                "merge_gap": app_settings.PRESENCE_MERGE_GAP_SECONDS,
                "time_zone": timezone.get_current_timezone_name(),
            },
        )


def _window_minutes(value: str | None) -> int:
    """The window asked for around the message, one of WINDOW_MINUTES (else none)."""
    try:
        minutes = int(value or 0)
    except ValueError:
        return 0
    return minutes if minutes in WINDOW_MINUTES else 0
