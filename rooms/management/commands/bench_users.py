"""Bench only: signed-in verified adults and public rooms for `make bench`.

    python manage.py bench_users --count 200 --rooms 10 --out var/bench/users.json

Creates (or reuses) the accounts `<prefix>_0001`... as verified adults (e-mail
verified through allauth, age verified by attestation) with unusable passwords,
then opens one session per account straight through the session engine, as
`django.contrib.auth.login` would store it: signing in through the login form
would make the benchmark measure Argon2, not the chat. Writes the session
cookies as JSON. Also makes sure the public rooms `bench-1`... exist (hence a
rooms command: accounts may not import rooms).

Sessions that sign in anyone without a password have no place in a real
database: the command refuses to run unless DEBUG is on or
--yes-this-is-a-bench-database is given.
"""

import datetime
import json
from importlib import import_module
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import AgeVerificationMethod
from rooms.actions import do_create_room
from rooms.models import Room, RoomKind

SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Long enough for any bench run, short enough that forgotten sessions expire.
SESSION_SECONDS = 24 * 3600


class Command(BaseCommand):
    help = "Bench only: creates signed-in verified adults and bench rooms, writes their cookies."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="how many users")
        parser.add_argument("--out", required=True, help="JSON file for the session cookies")
        parser.add_argument("--rooms", type=int, default=10, help="how many bench rooms")
        parser.add_argument("--prefix", default="bench", help="username and room prefix")
        parser.add_argument(
            "--yes-this-is-a-bench-database",
            action="store_true",
            dest="bench_database",
            help="run although DEBUG is off (the database must be a throwaway one)",
        )

    def handle(self, *args, count, out, rooms, prefix, bench_database, **options):
        if not (settings.DEBUG or bench_database):
            raise CommandError(
                "bench_users opens password-less sessions: it runs only with DEBUG on "
                "or with --yes-this-is-a-bench-database."
            )
        if count < 1 or rooms < 0:
            raise CommandError("--count must be at least 1 and --rooms at least 0.")
        if not prefix.isalnum() or len(prefix) > 20:
            raise CommandError("--prefix must be letters and digits, at most 20 of them.")
        users = [self.bench_user(f"{prefix}_{index:04d}") for index in range(1, count + 1)]
        slugs = [self.bench_room(f"{prefix}-{index}") for index in range(1, rooms + 1)]
        engine = import_module(settings.SESSION_ENGINE)
        data = {
            "cookie_name": settings.SESSION_COOKIE_NAME,
            "rooms": slugs,
            "users": [
                {
                    "username": user.username,
                    "cookie": f"{settings.SESSION_COOKIE_NAME}={self.session_for(engine, user)}",
                }
                for user in users
            ],
        }
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1))
        path.chmod(0o600)  # the cookies sign these accounts in
        self.stdout.write(f"{len(users)} bench users, {len(slugs)} rooms: {path}")

    @transaction.atomic
    def bench_user(self, username: str):
        email = f"{username}@bench.invalid"
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            # No password: nobody can sign in as a bench user except through its session.
            user = get_user_model().objects.create_user(
                username=username,
                email=email,
                password=None,
                date_of_birth=datetime.date(1990, 1, 1),
            )
        # Reused accounts are put back in the state the bench needs.
        user.is_active = True
        user.age_verified_at = user.age_verified_at or timezone.now()
        user.age_verification_method = AgeVerificationMethod.ATTESTATION
        # Established members (moderation's trust levels): a busy room's traffic is
        # mostly theirs, and brand-new accounts' first messages there would be held.
        user.date_joined = min(user.date_joined, timezone.now() - datetime.timedelta(days=90))
        user.save(
            update_fields=["is_active", "age_verified_at", "age_verification_method", "date_joined"]
        )
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": True}
        )
        return user

    def bench_room(self, slug: str) -> str:
        # Rooms belong to the rooms app: create them through its own action.
        room = Room.objects.filter(slug=slug).first()
        if room is None:
            room = do_create_room(actor=None, kind=RoomKind.PUBLIC, slug=slug, name=f"Bench {slug}")
        if room.kind != RoomKind.PUBLIC or room.is_archived or room.slow_mode_seconds:
            raise CommandError(f"room {slug} exists but is not an open public room")
        return room.slug

    def session_for(self, engine, user) -> str:
        """What django.contrib.auth.login stores, without a request."""
        session = engine.SessionStore()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = SESSION_BACKEND
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.set_expiry(SESSION_SECONDS)
        session.save()
        return session.session_key
