"""The embedded default, as `make run` gives it: SQLite under var/, the in-memory
channel layer, no DATABASE_URL and no REDIS_URL, served by a real daphne.

Tests use it black-box: a fresh database file migrated by `manage.py migrate`
(once per session, then copied), accounts made by running this module in that
environment (`python -m tests.embedded USERS ROOM [MODERATOR]`), which prints their
session cookies as JSON.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT, DaphneProcess, start_daphne

DATABASE_FILE = "chatsite.sqlite3"


def embedded_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment minus every service: the embedded defaults."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "AGE_ATTESTATION_PROVIDER_URL"}
    }
    env.update(
        # `make run`'s own default (it sets DEBUG=1 unless told otherwise).
        DEBUG="1",
        CHATSITE_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="chatsite.settings",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        # Minutes-old test accounts chatting at once: no trust gates (test runs only),
        # unless a test turns them on (`TRUST_GATES="on"` in `extra`).
        TRUST_GATES="off",
    )
    env.update(extra)
    return env


def migrated_database(var_dir: Path) -> Path:
    """Migrates a fresh embedded database in `var_dir`; returns its file."""
    var_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=embedded_env(var_dir),
        check=True,
        timeout=600,
    )
    return var_dir / DATABASE_FILE


def copy_database(template: Path, var_dir: Path) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, var_dir / DATABASE_FILE)


def make_accounts(
    var_dir: Path, users: int, room: str, *, moderator: str | None = None
) -> dict[str, str]:
    """Makes `users` verified adults and a public room `room` in the embedded
    database; returns username -> session cookie value. `moderator` (one of them)
    is made a moderator of the room, with a TOTP device its session has passed."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.embedded",
            str(users),
            room,
            *([moderator] if moderator else []),
        ],
        cwd=ROOT,
        env=embedded_env(var_dir),
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def start_embedded(
    var_dir: Path, log_path: Path, *, server: str = "daphne", **extra: str
) -> DaphneProcess:
    return start_daphne(embedded_env(var_dir, **extra), log_path, server=server)


def _setup(users: int, room: str, moderator: str | None = None) -> dict[str, str]:
    import datetime

    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from accounts.models import AgeVerificationMethod
    from rooms import actions
    from rooms.models import RoomKind

    public_room = actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug=room, name=room)
    cookies = {}
    for number in range(users):
        username = f"person{number}"
        user = get_user_model().objects.create_user(
            username=username,
            email=f"{username}@example.org",
            password="correct-horse-battery-staple-42",
            date_of_birth=datetime.date(1990, 1, 1),
            age_verified_at=timezone.now(),
            age_verification_method=AgeVerificationMethod.ATTESTATION,
        )
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        client = Client()
        client.force_login(user)
        if username == moderator:
            _make_room_moderator(public_room, user, client.session)
        cookies[username] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return cookies


def _make_room_moderator(room, user, session) -> None:
    """As tests/browser/test_room_moderators.py: the role, a confirmed TOTP device,
    and the session marked as having passed it (what /accounts/otp/ does)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from rooms.models import RoomMembership, RoomRole

    RoomMembership.objects.create(room=room, user=user, role=RoomRole.MODERATOR)
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


if __name__ == "__main__":
    print(json.dumps(_setup(int(sys.argv[1]), sys.argv[2], *sys.argv[3:4])))
