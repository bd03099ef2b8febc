from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Conformité")

    def ready(self) -> None:
        from accounts.actions import register_account_deletion_completer
        from compliance.actions import complete_account_deletion

        # A member's deletion request takes effect at once (GDPR Art. 17),
        # recorded as done by the system on the member's request.
        register_account_deletion_completer(
            lambda deletion: complete_account_deletion(deletion, actor=None)
        )
