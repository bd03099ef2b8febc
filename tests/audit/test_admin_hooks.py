"""Every change made in the admin writes exactly one correct audit entry.

Django's stock user and group admins (tests/audit/urls.py) show that the hooks
cover any ModelAdmin, third-party ones included.
"""

import datetime
import json

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from audit.events import AuditEvent
from tests.audit.conftest import entries_since, last_seq
from tests.conftest import grant_looks

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.audit.urls")]


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    # These tests are about what a change records; the gate has tests of its own.
    return grant_looks(client, "accounts.user", "auth.group")


def _permission(codename):
    return Permission.objects.get(codename=codename)


def _user_form(user, **overrides):
    joined = user.date_joined.astimezone(timezone.get_current_timezone())
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "groups": [group.pk for group in user.groups.all()],
        "user_permissions": [perm.pk for perm in user.user_permissions.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        # A field with a callable default posts its initial value too (show_hidden_initial).
        "initial-date_joined_0": joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": joined.strftime("%H:%M:%S"),
        "_save": "Enregistrer",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def member(make_user):
    user = make_user("bob", email="bob@example.org")
    # Whole seconds, so that re-posting date_joined is not a change.
    user.date_joined = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    user.save(update_fields=["date_joined"])
    return user


def test_adding_a_group_records_its_name_and_permissions(admin_client, superuser):
    before = last_seq()
    response = admin_client.post(
        "/admin/auth/group/add/",
        {"name": "Modérateurs", "permissions": [_permission("view_auditentry").pk]},
    )
    assert response.status_code == 302
    [entry] = entries_since(before)
    group = Group.objects.get(name="Modérateurs")
    assert entry.event == AuditEvent.ADMIN_ADDITION
    assert entry.actor_id == superuser.pk
    assert (entry.target_type, entry.target_id) == ("auth.group", str(group.pk))
    assert entry.details == {
        "action": "addition",
        "changed_fields": ["name", "permissions"],
        "values": {
            "name": {"old": None, "new": "Modérateurs"},
            "permissions": {"old": None, "new": ["audit.view_auditentry"]},
        },
    }
    assert entry.ip_address == "127.0.0.1"
    assert LogEntry.objects.filter(object_id=str(group.pk)).count() == 1


def test_changing_a_groups_permissions_records_old_and_new(admin_client):
    group = Group.objects.create(name="Conformité")
    group.permissions.add(_permission("view_auditentry"))
    before = last_seq()
    admin_client.post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": "Conformité", "permissions": [_permission("view_group").pk]},
    )
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.PERMISSIONS_CHANGED
    assert entry.details["values"] == {
        "permissions": {"old": ["audit.view_auditentry"], "new": ["auth.view_group"]}
    }


def test_adding_a_member_to_a_group_is_a_group_membership_change(admin_client, member):
    group = Group.objects.create(name="Modérateurs")
    before = last_seq()
    response = admin_client.post(
        f"/admin/accounts/user/{member.pk}/change/", _user_form(member, groups=[group.pk])
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.GROUP_MEMBERSHIP_CHANGED
    assert (entry.target_type, entry.target_id) == ("accounts.user", str(member.pk))
    assert entry.details["changed_fields"] == ["groups"]
    assert entry.details["values"] == {"groups": {"old": [], "new": ["Modérateurs"]}}


def test_making_someone_staff_is_a_permissions_change(admin_client, member):
    before = last_seq()
    admin_client.post(
        f"/admin/accounts/user/{member.pk}/change/", _user_form(member, is_staff="on")
    )
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.PERMISSIONS_CHANGED
    assert entry.details["values"] == {"is_staff": {"old": False, "new": True}}


def test_personal_values_are_kept_out_of_the_sealed_details(admin_client, member):
    before = last_seq()
    admin_client.post(
        f"/admin/accounts/user/{member.pk}/change/", _user_form(member, email="robert@example.org")
    )
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.ADMIN_CHANGE
    assert entry.details == {"action": "change", "changed_fields": ["email"]}
    assert "example.org" not in json.dumps(entry.details)
    assert entry.personal_details == {
        "object": "bob",
        "values": {"email": {"old": "bob@example.org", "new": "robert@example.org"}},
    }


def test_a_password_set_by_staff_is_recorded_without_the_password(admin_client, member):
    before = last_seq()
    secret = "Un-nouveau-mot-de-passe-42"
    response = admin_client.post(
        f"/admin/accounts/user/{member.pk}/password/",
        {"password1": secret, "password2": secret, "usable_password": "true"},
    )
    assert response.status_code == 302
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.ADMIN_CHANGE
    changed = entry.details["changed_fields"]
    assert changed and all("password" in name for name in changed)
    stored = json.dumps([entry.details, entry.personal_details, entry.reason])
    assert secret not in stored
    assert all(
        value == {"old": "[redacted]", "new": "[redacted]"}
        for value in entry.personal_details["values"].values()
    )


def test_deleting_through_the_delete_view_records_a_snapshot(admin_client, member):
    before = last_seq()
    response = admin_client.post(f"/admin/accounts/user/{member.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.ADMIN_DELETION
    assert entry.target_id == str(member.pk)
    values = entry.personal_details["values"]
    assert values["username"] == "bob"
    assert values["password"] == "[redacted]"
    assert member.password not in json.dumps(entry.personal_details)


def test_delete_selected_records_one_entry_per_object(admin_client):
    groups = [Group.objects.create(name=f"g{index}") for index in range(3)]
    before = last_seq()
    response = admin_client.post(
        "/admin/auth/group/",
        {
            "action": "delete_selected",
            "_selected_action": [group.pk for group in groups[:2]],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    entries = entries_since(before)
    assert [entry.event for entry in entries] == [AuditEvent.ADMIN_DELETION] * 2
    assert sorted(entry.target_id for entry in entries) == sorted(str(g.pk) for g in groups[:2])
    assert sorted(entry.details["values"]["name"] for entry in entries) == ["g0", "g1"]
    assert list(
        Group.objects.filter(name__in=["g0", "g1", "g2"]).values_list("name", flat=True)
    ) == ["g2"]


def test_a_form_with_errors_records_nothing(admin_client):
    before = last_seq()
    response = admin_client.post("/admin/auth/group/add/", {"name": ""})
    assert response.status_code == 200
    assert entries_since(before) == []


def test_an_uploaded_file_is_recorded_without_its_name():
    from django import forms
    from django.core.files.uploadedfile import SimpleUploadedFile

    from audit.admin_hooks import describe_form_change

    class DocumentForm(forms.Form):
        document = forms.FileField()
        note = forms.CharField()

    upload = SimpleUploadedFile("jean-dupont-passeport.pdf", b"%PDF-1.4")
    form = DocumentForm(data={"note": "ok"}, files={"document": upload})
    assert form.is_valid()
    described = describe_form_change(form, [], add=True)
    assert described["changes"]["document"] == {"old": None, "new": "[file]"}
    assert "dupont" not in json.dumps(described)
