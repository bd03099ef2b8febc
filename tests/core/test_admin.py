"""core/admin.py: the one read-only admin mixin, used by every app's record admins."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.models import ConnectionRecord
from audit.models import AuditEntry
from compliance.models import LegalHold
from core.admin import ReadOnlyAdminMixin
from moderation.models import StatementOfReasons
from rooms.models import Message

pytestmark = pytest.mark.django_db


def test_records_are_read_only_even_for_a_superuser(django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    request = RequestFactory().get("/admin/")
    request.user = superuser
    read_only = {
        model: model_admin
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ReadOnlyAdminMixin)
    }
    # One model of each app that keeps records only its actions write.
    for model in (AuditEntry, ConnectionRecord, Message, StatementOfReasons, LegalHold):
        assert model in read_only, model
    for model_admin in read_only.values():
        # A requisition is added through its own form (LegalRequestAdmin says so).
        if type(model_admin).has_add_permission is ReadOnlyAdminMixin.has_add_permission:
            assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert model_admin.has_view_permission(request)
