from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Comptes")

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from accounts import signals, staff
        from accounts.records import client_address
        from audit.trail import register_client_ip_resolver

        user_signed_up.connect(signals.on_user_signed_up, dispatch_uid="accounts.signup")
        user_logged_in.connect(signals.on_user_logged_in, dispatch_uid="accounts.login")
        user_logged_out.connect(signals.on_user_logged_out, dispatch_uid="accounts.logout")
        # The audit trail records the client's IP as accounts sees it (trusted proxies).
        register_client_ip_resolver(lambda request: client_address(request)[0])
        # Permissions of apps migrated later reach the staff groups.
        post_migrate.connect(
            staff.sync_staff_groups_after_migrate, dispatch_uid="accounts.staff_groups"
        )
