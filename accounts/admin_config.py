"""django.contrib.admin's app config, with the OTP-protected site as admin.site.

In a module of its own: next to AccountsConfig, Django could not tell which
config is the accounts app's default.
"""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.StaffAdminSite"
