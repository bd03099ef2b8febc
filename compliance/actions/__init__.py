"""Every change of state of the compliance app: one function each, one module per
noun (STYLE.md).

Each action is atomic at its outermost call and writes its audit entry last,
in the same transaction. Files (export packages) are written beside their
final name and moved into place only once the transaction commits.

Callers import from the package (`from compliance.actions import do_purge_expired`);
the modules below are its parts.
"""

from compliance.actions.account_deletion import (  # noqa: F401
    DELETED_USERNAME_PREFIX,
    complete_account_deletion,
    do_complete_account_deletion,
)
from compliance.actions.backups import (  # noqa: F401
    BackupRotation,
    backups_in,
    do_rotate_backups,
)
from compliance.actions.common import (  # noqa: F401
    APPROVE_PERMISSION,
    CHANGE_PERMISSION,
    EXPORT_PERMISSION,
    HOLD_TARGET,
    REQUEST_TARGET,
)
from compliance.actions.gdpr import (  # noqa: F401
    do_export_own_data,
)
from compliance.actions.holds import (  # noqa: F401
    do_release_hold,
)
from compliance.actions.legal_exports import (  # noqa: F401
    CATEGORY_FILES,
    MANIFEST_NAME,
    PACKAGE_FORMAT,
    ExportedPackage,
    do_export_legal_request,
    do_rotate_requisition_packages,
    package_files,
)
from compliance.actions.legal_requests import (  # noqa: F401
    do_answer_legal_request,
    do_approve_legal_export,
    do_open_legal_request,
    do_put_legal_request_on_hold,
    do_refuse_legal_request,
    do_verify_legal_request,
    resolve_named_pseudonyms,
)
from compliance.actions.lookups import (  # noqa: F401
    LOOKUP_PERMISSION,
    do_look_up_address,
)
from compliance.actions.orders import (  # noqa: F401
    do_acknowledge_order,
    do_confirm_preservation,
    do_extend_preservation,
    do_give_effect_to_order,
    do_lift_order_secrecy,
    do_process_orders,
)
from compliance.actions.retention import (  # noqa: F401
    PURGE_BATCH,
    PURGE_STEPS,
    Progress,
    PurgeSummary,
    do_purge_expired,
)
from compliance.actions.transparency import (  # noqa: F401
    do_publish_transparency_report,
)
