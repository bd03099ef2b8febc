"""What the admin shares across apps."""


class ReadOnlyAdminMixin:
    """A ModelAdmin that shows rows and never adds, changes or deletes them:
    records written only by actions (messages, audit entries, statements...)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
