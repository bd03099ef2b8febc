"""`python manage.py seed_demo`: the demo's public rooms, and under DEBUG its
demo users with known passwords. Idempotent: run it as often as you like."""

import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import AgeVerificationMethod
from rooms import actions
from rooms.models import Room, RoomKind

# (slug, name, theme, description): French, as the site's default language.
DEMO_ROOMS = [
    ("general", "Général", "général", "On discute de tout, dans le respect de chacun."),
    ("paris", "Paris", "ville", "Sorties, bons plans et vie à Paris."),
    ("lyon", "Lyon", "ville", "Sorties, bons plans et vie à Lyon."),
    ("musique", "Musique", "loisirs", "Concerts, découvertes et playlists."),
    ("cinema", "Cinéma", "loisirs", "Films, séries et salles obscures."),
    ("jeux-video", "Jeux vidéo", "loisirs", "Consoles, PC, rétro et parties en ligne."),
    ("sport", "Sport", "loisirs", "Matchs, entraînements et supporters."),
    ("lgbtq", "LGBTQ+", "communauté", "Un espace bienveillant pour les personnes LGBTQ+."),
]

# Development only (DEBUG): known passwords, printed for `make run`.
DEMO_USERS = [
    ("camille", "camille.demo-Lune-4821"),
    ("sacha", "sacha.demo-Soleil-7395"),
    ("dominique", "dominique.demo-Etoile-2604"),
]
DEMO_EMAIL_DOMAIN = "demo.chatsite.localhost"


class Command(BaseCommand):
    help = "Charge les salons publics de la démo et, sous DEBUG, ses comptes de démonstration."

    def handle(self, *args, **options) -> None:
        created = self.seed_rooms()
        self.stdout.write(f"seed_demo: {created} salon(s) créé(s), {len(DEMO_ROOMS)} au total.")
        if not settings.DEBUG:
            self.stdout.write("seed_demo: DEBUG est désactivé, aucun compte de démonstration.")
            return
        self.stdout.write("Comptes de démonstration (e-mail et âge vérifiés) :")
        for username, password in DEMO_USERS:
            email = self.seed_user(username, password)
            self.stdout.write(f"  {username} / {email} / mot de passe : {password}")

    def seed_rooms(self) -> int:
        created = 0
        for slug, name, theme, description in DEMO_ROOMS:
            if Room.objects.filter(slug=slug).exists():
                continue
            actions.do_create_room(
                actor=None,
                kind=RoomKind.PUBLIC,
                slug=slug,
                name=name,
                theme=theme,
                description=description,
            )
            created += 1
        return created

    @transaction.atomic
    def seed_user(self, username: str, password: str) -> str:
        email = f"{username}@{DEMO_EMAIL_DOMAIN}"
        user, _created = get_user_model().objects.get_or_create(
            username=username,
            defaults={"email": email, "date_of_birth": datetime.date(1990, 1, 1)},
        )
        # Reset each run, so that the printed password is always the right one.
        user.set_password(password)
        user.is_active = True
        if not user.age_verified_at:
            user.age_verified_at = timezone.now()
            user.age_verification_method = AgeVerificationMethod.ATTESTATION
        user.save()
        address, _created = EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": True}
        )
        if not (address.verified and address.primary):
            address.verified = address.primary = True
            address.save(update_fields=["verified", "primary"])
        return user.email
