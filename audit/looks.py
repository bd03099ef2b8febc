"""Every staff look at personal data in the admin: a stated reason first, an entry always.

`install` wraps ModelAdmin.urls (as admin_hooks wraps its log methods), so
every page of every registered ModelAdmin, Django's and third parties' included,
goes through `gated`: a list, a search, an object's page, its history, its
deletion page and the admin's own custom views (a report's decision page, a
document's file, the compliance dashboard...). A model admin added tomorrow is
gated without anyone remembering to: the only way out is to declare it.

What a ModelAdmin declares (`look_policy`, default `LookPolicy.MODEL`):

- `NO_PERSONAL_DATA`: nothing about a person (groups, filter rules). Not gated.
- `PUBLIC_CONTENT`: only what any verified adult member can read anyway (the
  messages of public rooms). Not gated: the line docs/audit.md draws.
- `MODEL`: one reason covers the model's pages for ACCESS_GRANT_SECONDS.
- `OBJECT`: the list needs a reason for the model, each object its own.

Each page shown (a 2xx answer) under a grant writes one entry (audit/actions.py
`do_record_staff_access`): the staff member, the event (`access_event`, or the
one a gate inside the page named), the target, the reason, and the ids of the
people and rooms the page showed (an object's user and room fields; on a list,
those of the rows on the page); a search term and filters go in the entry's
erasable part. Add forms show no one's data and are not gated.
"""

import functools
from enum import StrEnum

from django.contrib.admin import ModelAdmin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import URLPattern

from audit.access import LOOK, access_gate, granted_reason
from audit.actions import do_record_staff_access
from audit.events import AuditEvent
from audit.trail import request_ip, user_model_label

_INSTALLED = "_audit_looks_installed"
ROOM_LABEL = "rooms.room"
# URL keyword arguments that name the object a page shows.
OBJECT_KWARGS = ("object_id", "pk", "id", "document_id")
# Third-party admins we do not subclass, declared here: no personal data in them.
NO_PERSONAL_DATA_MODELS = frozenset({"auth.group", "sites.site"})
# Query parameters that are not filters.
NOT_FILTERS = ("p", "o", "q", "_changelist_filters", "e")


class LookPolicy(StrEnum):
    NO_PERSONAL_DATA = "no_personal_data"
    PUBLIC_CONTENT = "public_content"
    MODEL = "model"
    OBJECT = "object"


def policy_of(model_admin) -> LookPolicy:
    declared = getattr(model_admin, "look_policy", None)
    if declared is not None:
        return LookPolicy(declared)
    if model_admin.opts.label_lower in NO_PERSONAL_DATA_MODELS:
        return LookPolicy.NO_PERSONAL_DATA
    if getattr(model_admin, "access_reason_covers_model", True) is False:
        return LookPolicy.OBJECT  # audit.access.ReasonRequiredAdminMixin's per-object gate
    return LookPolicy.MODEL


def install() -> None:
    if getattr(ModelAdmin, _INSTALLED, False):
        return

    # `urls` (what the site includes) rather than get_urls: a subclass adds its
    # custom views in its own get_urls, around super()'s; all of them are wrapped.
    def gated_urls(self):
        patterns = self.get_urls()
        for pattern in patterns:
            if (
                isinstance(pattern, URLPattern)
                and pattern.name
                and not pattern.name.endswith("_add")
            ):
                pattern.callback = gated(self, pattern.callback)
        return patterns

    ModelAdmin.urls = property(gated_urls)
    setattr(ModelAdmin, _INSTALLED, True)


def _object_id(kwargs) -> str | None:
    for name in OBJECT_KWARGS:
        if name in kwargs:
            return str(unquote(str(kwargs[name])))
    return None


def _get_object(model_admin, request, object_id):
    try:
        return model_admin.get_queryset(request).filter(pk=object_id).first()
    except (ValueError, ValidationError):
        return None


def gated(model_admin, view):
    """`view` (already wrapped by admin_view) behind the stated-reason gate."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        policy = policy_of(model_admin)
        if policy in (LookPolicy.NO_PERSONAL_DATA, LookPolicy.PUBLIC_CONTENT):
            return view(request, *args, **kwargs)
        if not model_admin.admin_site.has_permission(request):
            return view(request, *args, **kwargs)  # admin_view sends them to the login
        # Permission first: nobody states a reason for what they may not see anyway.
        if not model_admin.has_view_or_change_permission(request):
            raise PermissionDenied
        object_id = _object_id(kwargs)
        obj = _get_object(model_admin, request, object_id) if object_id is not None else None
        target_type = model_admin.opts.label_lower
        target_id = object_id if policy == LookPolicy.OBJECT and obj is not None else ""
        event = getattr(model_admin, "access_event", AuditEvent.VIEW_PERSONAL_DATA)
        reason = granted_reason(request, target_type, target_id)
        if reason is None:
            # The reason form, or a stated reason's redirect back to this page.
            refusal = access_gate(
                request,
                event,
                target_type,
                target_id,
                context={
                    **model_admin.admin_site.each_context(request),
                    "opts": model_admin.opts,
                    "target_id": target_id,
                },
            )
            if refusal is not None:
                return refusal
            reason = granted_reason(request, target_type, target_id) or ""
        # Granted. A gate inside the page may still ask for a more precise reason (a
        # report about a private conversation): it fills `look` in with its target.
        look = {
            "event": event,
            "target_type": target_type,
            "target_id": target_id,
            "reason": reason,
        }
        setattr(request, LOOK, look)
        response = view(request, *args, **kwargs)
        if not 200 <= response.status_code < 300 or look.get("recorded"):
            # Refused, not found or a redirect (a change saved, an action done: its own
            # entry says so) showed nothing; or the page recorded its own look.
            return response
        objects = [obj] if obj is not None else _listed(response)
        people, rooms = subjects(model_admin, objects)
        if look["event"] == event:  # no inner gate named a more precise one
            look["event"] = _private_content_event(model_admin, objects) or event
        do_record_staff_access(
            look["event"],
            actor=request.user,
            target_type=look["target_type"],
            target_id=look["target_id"],
            reason=look["reason"],
            ip_address=request_ip(request),
            details={
                "view": request.resolver_match.url_name if request.resolver_match else "",
                "method": request.method,
                "rows": len(objects),
            },
            people=people,
            rooms=rooms,
            personal=_query(request),
        )
        return response

    return wrapped


def _private_content_event(model_admin, objects) -> AuditEvent | None:
    """For a ModelAdmin whose rows quote what was said in a room (`private_content_room`
    names the row's room field: held messages, safety signals' excerpts), a page that
    showed a direct conversation's or a private room's text is recorded as such, so
    that it counts toward the rate alert (audit/watch.py)."""
    field = getattr(model_admin, "private_content_room", None)
    if field is None:
        return None
    kinds = {getattr(getattr(obj, field, None), "kind", None) for obj in objects}
    if "direct" in kinds:
        return AuditEvent.VIEW_DIRECT_CONVERSATION
    if "private" in kinds:
        return AuditEvent.VIEW_PRIVATE_ROOM_MESSAGES
    return None


def _listed(response) -> list:
    """The rows a change list put on its page (none for other pages)."""
    changelist = (getattr(response, "context_data", None) or {}).get("cl")
    return list(getattr(changelist, "result_list", []) or [])


def _query(request) -> dict | None:
    """A search term and filters: someone's name, perhaps; kept erasable."""
    search = request.GET.get("q", "").strip()
    filters = {
        key: request.GET.getlist(key) for key in sorted(request.GET) if key not in NOT_FILTERS
    }
    if not search and not filters:
        return None
    return {"search": search[:200], "filters": filters}


def subjects(model_admin, objects) -> tuple[set[int], set[int]]:
    """The ids of the accounts and rooms that `objects` show.

    An account itself, a room itself, and every field pointing to an account or a
    room; a ModelAdmin adds more with `look_subjects(obj) -> (people, rooms)`.
    """
    user_label = user_model_label()
    people: set[int] = set()
    rooms: set[int] = set()
    extra = getattr(model_admin, "look_subjects", None)
    for obj in objects:
        concrete = obj._meta.concrete_model._meta.label_lower
        if concrete == user_label:
            people.add(obj.pk)
        elif concrete == ROOM_LABEL:
            rooms.add(obj.pk)
        for field in obj._meta.concrete_fields:
            if not field.is_relation or field.related_model is None:
                continue
            related = field.related_model._meta.concrete_model._meta.label_lower
            value = getattr(obj, field.attname)
            if value is None:
                continue
            if related == user_label:
                people.add(value)
            elif related == ROOM_LABEL:
                rooms.add(value)
        if extra is not None:
            more_people, more_rooms = extra(obj)
            people.update(pk for pk in more_people if pk is not None)
            rooms.update(pk for pk in more_rooms if pk is not None)
    return people, rooms
