from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Conformité")

    def ready(self) -> None:
        from django.core import checks

        from accounts.actions import register_account_deletion_completer
        from compliance.actions import complete_account_deletion
        from compliance.checks import check_legal_settings

        checks.register(check_legal_settings, "compliance", deploy=True)

        # A member's deletion request takes effect at once (GDPR Art. 17),
        # recorded as done by the system on the member's request.
        register_account_deletion_completer(
            lambda deletion: complete_account_deletion(deletion, actor=None)
        )
