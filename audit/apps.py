from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Journal d'audit")

    def ready(self) -> None:
        from audit import admin_hooks, looks, refusals
        from core.staff import register_staff_refusal_listener

        admin_hooks.install()
        looks.install()
        register_staff_refusal_listener(refusals.record_refusal)
