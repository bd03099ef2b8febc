"""create_staff USERNAME --email E --role moderator|senior_moderator|compliance|admin [--password P]

Creates a staff account with a confirmed TOTP device and prints its otpauth://
URI on a line of its own (to scan or paste into an authenticator app), then
ten single-use backup codes.
"""

import getpass
import sys

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.actions import do_create_staff_account
from accounts.staff import StaffRole


class Command(BaseCommand):
    help = "Creates a staff account (moderator, compliance or admin) with TOTP two-factor."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=[role.value for role in StaffRole])
        parser.add_argument(
            "--password", help="read from a prompt when omitted (preferred: not in shell history)"
        )

    def handle(self, *args, username, email, role, password, **options):
        user_model = get_user_model()
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"--email: {error.messages[0]}") from None
        if user_model.objects.filter(username__iexact=username).exists():
            raise CommandError(f"the username {username!r} is taken")
        if user_model.objects.filter(email__iexact=email).exists():
            raise CommandError(f"the e-mail address {email!r} is taken")
        if password is None:
            password = self._prompt_password()
        try:
            password_validation.validate_password(
                password, user_model(username=username, email=email)
            )
        except ValidationError as error:
            raise CommandError("password: " + " ".join(error.messages)) from None

        account = do_create_staff_account(
            username, email=email, role=StaffRole(role), password=password, actor=None
        )
        self.stdout.write(f"Created staff account {account.user.username} (role: {role}).")
        self.stdout.write(
            "Add this TOTP key to an authenticator app (otpauth URI on the next line):"
        )
        self.stdout.write(account.totp_device.config_url)
        self.stdout.write("Backup codes (single use, keep them offline):")
        for code in account.backup_codes:
            self.stdout.write(f"  {code}")

    def _prompt_password(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError("no --password given and no terminal to prompt on")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("the passwords differ")
        return password
