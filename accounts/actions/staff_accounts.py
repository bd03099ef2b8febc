"""Staff accounts and their second factor (TOTP, backup codes, sign-ins)."""

from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import staff
from accounts.models import (
    User,
)
from audit.events import AuditEvent
from audit.trail import record


@dataclass
class StaffAccount:
    user: User
    totp_device: TOTPDevice
    backup_codes: list[str] = field(default_factory=list)


def _replace_backup_codes(user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=staff.BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(staff.BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic(durable=True)
def do_create_staff_account(
    username: str, *, email: str, role: staff.StaffRole, password: str, actor: User | None
) -> StaffAccount:
    role = staff.StaffRole(role)
    user = User.objects.create_user(
        username=username,
        email=email,
        password=password,
        is_staff=True,
        is_superuser=role is staff.StaffRole.ADMIN,
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    user.groups.add(Group.objects.get(name=staff.ROLE_GROUPS[role]))
    device = TOTPDevice.objects.create(user=user, name=staff.TOTP_DEVICE_NAME, confirmed=True)
    codes = _replace_backup_codes(user)
    record(
        AuditEvent.STAFF_ACCOUNT_CREATED,
        actor=actor,
        target_type="accounts.user",
        target_id=user.pk,
        details={"role": str(role)},
    )
    return StaffAccount(user=user, totp_device=device, backup_codes=codes)


@transaction.atomic(durable=True)
def do_start_totp_enrolment(user: User, *, actor: User) -> TOTPDevice:
    """The unconfirmed device whose QR code the enrolment page shows (one at a time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=staff.TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic(durable=True)
def do_confirm_totp_device(device: TOTPDevice, token: str, *, actor: User) -> list[str] | None:
    """Confirms the device if `token` is right; returns the new backup codes, or
    None when the token is wrong."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.confirmed or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _replace_backup_codes(device.user)
    record(
        AuditEvent.OTP_DEVICE_CONFIRMED,
        actor=actor,
        target_type="accounts.user",
        target_id=device.user_id,
    )
    return codes


@transaction.atomic(durable=True)
def do_regenerate_backup_codes(user: User, *, actor: User) -> list[str]:
    codes = _replace_backup_codes(user)
    record(
        AuditEvent.OTP_BACKUP_CODES_REGENERATED,
        actor=actor,
        target_type="accounts.user",
        target_id=user.pk,
    )
    return codes


@transaction.atomic(durable=True)
def do_record_staff_sign_in(
    event: AuditEvent,
    *,
    actor: User | None,
    target: User | None,
    ip_address: str | None,
    via: str = "admin",
) -> None:
    """Audits a staff sign-in, a failed password or a failed second factor.

    `via`: "admin" for the admin's login (with its second factor), "site" for
    the site's own login page. A failed attempt has no actor; its target is the
    account it named, if any (what was typed is not kept: it may be someone's
    password).
    """
    record(
        event,
        actor=actor,
        target_type="accounts.user" if target else "",
        target_id=target.pk if target else "",
        details={"via": via},
        ip_address=ip_address,
    )
