"""Every change made in the admin writes one audit entry, whichever ModelAdmin made it.

The admin logs each addition, change and deletion through ModelAdmin's
log_addition, log_change and log_deletions (its LogEntry history). `install`
wraps those three on ModelAdmin itself, so that third-party admins (groups,
allauth's addresses, OTP devices) are covered as well as ours, and wraps
construct_change_message, the one place that sees the form, to learn the old
and new values. Admin actions (such as "delete selected") run in a
transaction, so their entries commit or roll back with them.

What goes where: the changed field names, and for groups and permissions the
old and new values, are sealed in `details`; other values may be someone's
personal data, so they go to the erasable `personal` part. Secrets
(passwords, OTP keys, tokens) are never recorded, only that they changed.
"""

import re

from django.contrib.admin import ModelAdmin
from django.contrib.auth.models import Group
from django.core.files import File
from django.db import models, router, transaction
from django.db.models.fields.files import FieldFile

from audit.chain import normalise_json
from audit.events import AuditEvent
from audit.trail import record, request_ip, user_model_label

SECRET_FIELD = re.compile(r"(^|_)(password\d?|secret|key|token|salt|hash|otp)(_|$)", re.IGNORECASE)
REDACTED = "[redacted]"
FILE = "[file]"
# On an account: which changed fields make the change a privilege change.
MEMBERSHIP_FIELDS = {"groups"}
PERMISSION_FIELDS = {"user_permissions", "is_staff", "is_superuser"}
_PENDING = "_audit_admin_change"
_INSTALLED = "_audit_hooks_installed"


def install() -> None:
    if getattr(ModelAdmin, _INSTALLED, False):
        return
    construct_change_message = ModelAdmin.construct_change_message
    log_addition = ModelAdmin.log_addition
    log_change = ModelAdmin.log_change
    log_deletions = ModelAdmin.log_deletions
    response_action = ModelAdmin.response_action

    def audited_construct_change_message(self, request, form, formsets, add=False):
        message = construct_change_message(self, request, form, formsets, add)
        setattr(request, _PENDING, describe_form_change(form, formsets, add=add))
        return message

    def audited_log_addition(self, request, obj, message):
        entry = log_addition(self, request, obj, message)
        record_admin_change(request, obj, "addition", request.__dict__.pop(_PENDING, None))
        return entry

    def audited_log_change(self, request, obj, message):
        entry = log_change(self, request, obj, message)
        record_admin_change(request, obj, "change", request.__dict__.pop(_PENDING, None))
        return entry

    def audited_log_deletions(self, request, queryset):
        entries = log_deletions(self, request, queryset)
        for obj in queryset:
            record_admin_change(request, obj, "deletion", None)
        return entries

    def atomic_response_action(self, request, queryset, *args, **kwargs):
        with transaction.atomic(using=router.db_for_write(self.model)):
            return response_action(self, request, queryset, *args, **kwargs)

    ModelAdmin.construct_change_message = audited_construct_change_message
    ModelAdmin.log_addition = audited_log_addition
    ModelAdmin.log_change = audited_log_change
    ModelAdmin.log_deletions = audited_log_deletions
    ModelAdmin.response_action = atomic_response_action
    setattr(ModelAdmin, _INSTALLED, True)


# --- What changed ----------------------------------------------------------------------


def _is_secret(name: str, form_field=None) -> bool:
    if SECRET_FIELD.search(name):
        return True
    widget = getattr(form_field, "widget", None)
    return widget is not None and getattr(widget, "input_type", "") == "password"


def _value(value):
    """A form or model value as plain JSON: related objects by their readable key."""
    if isinstance(value, FieldFile | File):  # stored or just uploaded: never its name
        return FILE if value else None
    if isinstance(value, Group):
        return value.name
    if hasattr(value, "codename") and hasattr(value, "content_type"):  # a Permission
        return f"{value.content_type.app_label}.{value.codename}"
    if isinstance(value, models.QuerySet) or (
        isinstance(value, list | tuple) and value and isinstance(value[0], models.Model)
    ):
        return sorted(str(_value(item)) for item in value)
    return normalise_json(value)


def describe_form_change(form, formsets, *, add: bool) -> dict:
    """The changed fields of an admin form, with their old and new values (secrets withheld)."""
    changes = {}
    for name in form.changed_data:
        form_field = form.fields.get(name)
        if _is_secret(name, form_field):
            changes[name] = {"old": REDACTED, "new": REDACTED}
            continue
        old = None if add else form.initial.get(name)
        new = form.cleaned_data.get(name)
        changes[name] = {"old": _value(old), "new": _value(new)}
    inlines = []
    for formset in formsets or []:
        summary = {
            "model": formset.model._meta.label_lower,
            "added": sorted(str(obj.pk) for obj in formset.new_objects),
            "changed": {str(obj.pk): sorted(fields) for obj, fields in formset.changed_objects},
            "deleted": sorted(str(obj.pk) for obj in formset.deleted_objects),
        }
        if summary["added"] or summary["changed"] or summary["deleted"]:
            inlines.append(summary)
    return {"changes": changes, "inlines": inlines}


def _snapshot(obj) -> dict:
    """A deleted object's own field values (secrets withheld), for the record."""
    values = {}
    for model_field in obj._meta.concrete_fields:
        name = model_field.attname
        if _is_secret(model_field.name):
            values[name] = REDACTED
        else:
            values[name] = _value(getattr(obj, name))
    return values


def _event(obj, action: str, changed: set[str]) -> AuditEvent:
    label = obj._meta.label_lower
    if action == "change" and label == user_model_label():
        if changed & PERMISSION_FIELDS:
            return AuditEvent.PERMISSIONS_CHANGED
        if changed & MEMBERSHIP_FIELDS:
            return AuditEvent.GROUP_MEMBERSHIP_CHANGED
    if action == "change" and isinstance(obj, Group) and "permissions" in changed:
        return AuditEvent.PERMISSIONS_CHANGED
    return {
        "addition": AuditEvent.ADMIN_ADDITION,
        "change": AuditEvent.ADMIN_CHANGE,
        "deletion": AuditEvent.ADMIN_DELETION,
    }[action]


def _sealed_names(obj) -> set[str]:
    """Fields whose values are not personal data and are sealed: privileges and group names."""
    if isinstance(obj, Group):
        return {"name", "permissions"}
    if obj._meta.label_lower == user_model_label():
        return MEMBERSHIP_FIELDS | PERMISSION_FIELDS
    return set()


def record_admin_change(request, obj, action: str, described: dict | None) -> None:
    described = described or {"changes": {}, "inlines": []}
    changes = described["changes"]
    sealed_names = _sealed_names(obj)
    details = {"action": action, "changed_fields": sorted(changes)}
    personal = {"object": str(obj)[:200]}
    sealed_values = {name: value for name, value in changes.items() if name in sealed_names}
    if sealed_values:
        details["values"] = sealed_values
    personal_values = {name: value for name, value in changes.items() if name not in sealed_names}
    if personal_values:
        personal["values"] = personal_values
    if described["inlines"]:
        details["inlines"] = described["inlines"]
    if action == "deletion":
        snapshot = _snapshot(obj)
        if isinstance(obj, Group):
            details["values"] = {
                "name": obj.name,
                "permissions": _value(list(obj.permissions.select_related("content_type"))),
            }
        personal["values"] = snapshot
    record(
        _event(obj, action, set(changes)),
        actor=request.user,
        target_type=obj._meta.label_lower,
        target_id=obj.pk,
        details=details,
        personal=personal,
        ip_address=request_ip(request),
    )
