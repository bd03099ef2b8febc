"""Staff roles: their groups and permissions, and their second factor.

The groups are created by a data migration (0003) and kept in step after every
`migrate` (post_migrate), so that permissions of apps added later (moderation,
compliance...) reach the right group. Syncing only adds: what an administrator
grants by hand in the admin is never taken back here.
"""

from enum import StrEnum

MODERATORS = "Moderators"
# Moderators who also take the reports handed up to them from the live console.
SENIOR_MODERATORS = "Senior moderators"
COMPLIANCE = "Compliance"
ADMINISTRATORS = "Administrators"

BACKUP_CODE_COUNT = 10
BACKUP_DEVICE_NAME = "backup"
TOTP_DEVICE_NAME = "default"

ALL = "*"


class StaffRole(StrEnum):
    MODERATOR = "moderator"
    SENIOR_MODERATOR = "senior_moderator"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


ROLE_GROUPS = {
    StaffRole.MODERATOR: MODERATORS,
    StaffRole.SENIOR_MODERATOR: SENIOR_MODERATORS,
    StaffRole.COMPLIANCE: COMPLIANCE,
    StaffRole.ADMIN: ADMINISTRATORS,
}

# group -> [(app label, model, actions)]; ALL matches every model or action,
# an action is the codename's prefix ("view" in "view_user").
GROUP_PERMISSIONS = {
    MODERATORS: [
        ("accounts", "user", ("view",)),
        ("accounts", "identitydocument", ("view", "review")),
        ("accounts", "ageverificationattempt", ("view",)),
        ("rooms", ALL, ("view", "change", "delete")),
        ("moderation", ALL, ("view", "add", "change")),
    ],
    SENIOR_MODERATORS: [
        ("accounts", "user", ("view",)),
        ("accounts", "identitydocument", ("view", "review")),
        ("accounts", "ageverificationattempt", ("view",)),
        ("rooms", ALL, ("view", "change", "delete")),
        ("moderation", ALL, ("view", "add", "change")),
        ("moderation", "report", ("handle_senior",)),
    ],
    COMPLIANCE: [
        ("moderation", "report", ("handle_compliance",)),
        ("accounts", ALL, ("view",)),
        ("accounts", "identitydocument", ("review",)),
        ("accounts", "accountdeletionrequest", ("change",)),
        ("audit", ALL, ALL),
        ("compliance", ALL, ALL),
        ("moderation", ALL, ("view",)),
        ("rooms", ALL, ("view",)),
    ],
    ADMINISTRATORS: [(ALL, ALL, ALL)],
}


def _matches(permission, spec) -> bool:
    app_label, model, actions = spec
    content_type = permission.content_type
    if app_label != ALL and content_type.app_label != app_label:
        return False
    if model != ALL and content_type.model != model:
        return False
    if actions == ALL:
        return True
    return any(permission.codename == f"{action}_{content_type.model}" for action in actions)


def sync_staff_groups(group_model, permission_model) -> None:
    """Creates the staff groups and adds the permissions their role calls for.

    Takes the models as arguments so that the data migration can pass its
    historical ones.
    """
    permissions = list(permission_model.objects.select_related("content_type"))
    for name, specs in GROUP_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=name)
        wanted = [p for p in permissions if any(_matches(p, spec) for spec in specs)]
        group.permissions.add(*wanted)


def sync_staff_groups_after_migrate(sender, **kwargs) -> None:
    """post_migrate is sent once per app, each after its permissions exist:
    syncing once, for the last app, sees every app's permissions."""
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender.label != with_models[-1].label:
        return

    sync_staff_groups(Group, Permission)
