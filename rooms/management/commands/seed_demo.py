"""`python manage.py seed_demo`: the demo's public rooms, and under DEBUG its
demo users with known passwords, a few more members without a password, and
their conversations (public rooms and direct messages) spread over the last
days. Idempotent: run it as often as you like.

The conversations go through rooms' own actions, as a member's post does
(policy checks, content operations, contact requests, read marks); each line
has a fixed client_id, so a second run finds it instead of writing it again."""

import datetime
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import AgeVerificationMethod
from rooms import actions, queries
from rooms.models import ContactRequest, Message, Room, RoomKind

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
# The other voices of the demo's conversations: verified members without a
# password (nobody signs in as them).
DEMO_MEMBERS = ["lucie", "mehdi", "nadia", "thomas", "jo", "romain"]


@dataclass(frozen=True)
class Line:
    """One message of a demo conversation, `minutes_ago` before the first run."""

    minutes_ago: int
    author: str
    body: str
    reply_to: int | None = None  # the index of an earlier line of the same conversation
    reactions: tuple[tuple[str, str], ...] = ()  # (username, emoji)


# Each room's lines in time order (ids follow time, as for real posts).
DEMO_CONVERSATIONS: dict[str, list[Line]] = {
    "general": [
        Line(
            2900,
            "lucie",
            "Bonjour tout le monde ! Première fois ici, comment marchent les salons ?",
        ),
        Line(
            2896,
            "camille",
            "Salut Lucie, bienvenue ! Chaque salon a son thème : tu écris en bas et tout le "
            "monde te lit. Touche un pseudo pour voir sa carte de profil.",
            reply_to=0,
        ),
        Line(2890, "lucie", "Merci, c'est plus clair 🙂", reactions=(("camille", "👍"),)),
        Line(620, "mehdi", "Bonsoir à tous ! Quelqu'un a vu l'orage sur Marseille ?"),
        Line(615, "nadia", "Oui, impressionnant ! Plus de courant pendant une heure chez moi."),
        Line(95, "thomas", "Café du matin ☕ Vous faites quoi de beau aujourd'hui ?"),
        Line(88, "sacha", "Télétravail, puis piscine ce soir. Et toi ?", reply_to=5),
        Line(80, "thomas", "J'aide un pote à déménager… trois étages sans ascenseur 😅"),
        Line(12, "jo", "Courage Thomas ! Pense aux pizzas pour les déménageurs."),
        Line(3, "dominique", "La règle d'or du déménagement : pizzas et boissons fraîches 😄"),
    ],
    "paris": [
        Line(1500, "nadia", "Quelqu'un connaît une expo sympa ce week-end ?"),
        Line(
            1490,
            "romain",
            "L'expo photo du Jeu de Paume vaut le détour, il y a moins de monde le matin.",
        ),
        Line(1485, "nadia", "Super, merci ! J'irai samedi matin alors.", reply_to=1),
        Line(240, "camille", "Les quais de Seine sont bondés ce soir, mais l'ambiance est top."),
        Line(230, "mehdi", "Vous avez un bon resto pas trop cher vers Belleville ?"),
        Line(
            222,
            "romain",
            "Rue de Belleville, plein de petits restos vietnamiens et chinois. Difficile de "
            "se tromper.",
            reply_to=4,
        ),
    ],
    "lyon": [
        Line(3000, "jo", "Des Lyonnais pour la Fête des Lumières cette année ?"),
        Line(
            2990,
            "sacha",
            "Évidemment ! Je conseille d'éviter la presqu'île le samedi soir, c'est noir de monde.",
        ),
        Line(2985, "jo", "Bien vu. Le Vieux Lyon en semaine, alors."),
        Line(400, "thomas", "Petit bouchon ce midi rue Mercière, la quenelle était parfaite."),
    ],
    "musique": [
        Line(
            1800,
            "mehdi",
            "Vous écoutez quoi en ce moment ? Moi, le dernier album de Juliette Armanet en boucle.",
        ),
        Line(1790, "lucie", "Beaucoup de jazz ces temps-ci, surtout Melody Gardot le soir."),
        Line(1780, "dominique", "Quelqu'un a déjà fait les Francofolies de La Rochelle ?"),
        Line(60, "nadia", "Petit concert dans un bar ce soir, rien ne vaut la musique en live."),
        Line(55, "mehdi", "Carrément. Tu nous diras si le groupe valait le coup !", reply_to=3),
    ],
    "cinema": [
        Line(2200, "romain", "Revu « Anatomie d'une chute » hier soir, toujours aussi fort."),
        Line(2190, "camille", "La scène du procès m'a scotchée. Sandra Hüller est incroyable."),
        Line(2180, "jo", "Pas de spoiler pour ceux qui ne l'ont pas vu 😉"),
        Line(150, "lucie", "Une série à conseiller pour les soirées d'hiver ?"),
        Line(
            140,
            "sacha",
            "« Le Bureau des légendes », si tu ne l'as pas encore vue. Impossible de décrocher.",
            reply_to=3,
            reactions=(("lucie", "❤️"),),
        ),
    ],
    "jeux-video": [
        Line(700, "thomas", "Qui est partant pour une partie de Mario Kart ce soir ?"),
        Line(690, "jo", "Toujours ! Je te préviens, je suis imbattable sur la Route Arc-en-ciel."),
        Line(685, "thomas", "On verra ça 😄", reply_to=1),
        Line(
            30,
            "romain",
            "Je viens de finir Hollow Knight : 60 heures et pas une de regret.",
            reactions=(("thomas", "👍"), ("jo", "😮")),
        ),
        Line(25, "dominique", "Bravo ! Le dernier boss m'a pris une soirée entière.", reply_to=3),
    ],
    "sport": [
        Line(1300, "mehdi", "Quel match hier soir ! Ça s'est joué dans les arrêts de jeu."),
        Line(1295, "nadia", "Je suis plutôt rugby, mais j'ai vu la fin : quel suspense."),
    ],
    "lgbtq": [
        Line(
            2500,
            "sacha",
            "Coucou ! Juste un mot pour dire que ce salon m'a beaucoup aidé l'an dernier. Merci.",
        ),
        Line(2480, "lucie", "Ça fait plaisir à lire. Prends soin de toi 💜", reply_to=0),
        Line(500, "romain", "Des conseils pour une première Marche des fiertés ?"),
        Line(
            490,
            "jo",
            "Viens avec de l'eau et de bonnes chaussures, et profite : l'ambiance est géniale !",
        ),
    ],
}


@dataclass(frozen=True)
class DirectConversation:
    """A conversation that `starter` opens with `recipient` (a contact request,
    accepted after the first line when `accepted`)."""

    starter: str
    recipient: str
    accepted: bool
    lines: list[Line]


DEMO_DIRECT = [
    DirectConversation(
        "camille",
        "sacha",
        True,
        [
            Line(1440, "camille", "Salut Sacha ! Tu vas à la Fête des Lumières quel soir ?"),
            Line(
                1430, "sacha", "Coucou ! Sûrement jeudi, il y a moins de monde. Tu connais Lyon ?"
            ),
            Line(
                1425,
                "camille",
                "Un peu, j'y ai vécu deux ans. Fourvière illuminée, c'est magique.",
            ),
            Line(1420, "sacha", "Je note, merci pour le conseil 🙂"),
        ],
    ),
    DirectConversation(
        "dominique",
        "sacha",
        True,
        [
            Line(
                100,
                "dominique",
                "Bonjour Sacha, j'ai commencé « Le Bureau des légendes » grâce à toi !",
            ),
            Line(95, "sacha", "Avec plaisir ! Tu en es à quel épisode ?"),
            Line(90, "dominique", "Le troisième. Je sens que je vais y passer mes soirées…"),
        ],
    ),
    # Waiting for dominique's answer: the demo shows a contact request too.
    DirectConversation(
        "nadia",
        "dominique",
        False,
        [
            Line(
                20,
                "nadia",
                "Bonjour Dominique, tu joues à d'autres jeux du genre de Hollow Knight ?",
            )
        ],
    ),
]


class Command(BaseCommand):
    help = (
        "Charge les salons publics de la démo et, sous DEBUG, ses comptes de démonstration "
        "et leurs conversations."
    )

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
        for username in DEMO_MEMBERS:
            self.seed_user(username, None)
        written = self.seed_conversations()
        self.stdout.write(
            f"seed_demo: {written} message(s) de démonstration écrit(s) ; les autres voix "
            f"({', '.join(DEMO_MEMBERS)}) n'ont pas de mot de passe."
        )

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

    def seed_conversations(self) -> int:
        """The demo's conversations, through rooms' actions; returns how many
        messages this run wrote (none the second time)."""
        users = {
            user.username: user
            for user in get_user_model().objects.filter(
                username__in=[name for name, _password in DEMO_USERS] + DEMO_MEMBERS
            )
        }
        now = timezone.now()
        written = 0
        for slug, lines in DEMO_CONVERSATIONS.items():
            room = Room.objects.get(slug=slug)
            for username in dict.fromkeys(line.author for line in lines):
                actions.do_join_public_room(room, actor=users[username])
            written += self._post(room, f"demo-{slug}", lines, users, now)
            # Each one has read the room up to their own last message.
            for username in dict.fromkeys(line.author for line in lines):
                last = (
                    Message.objects.filter(room=room, author=users[username])
                    .order_by("-id")
                    .values_list("id", flat=True)
                    .first()
                )
                actions.do_mark_room_read(room, actor=users[username], up_to_id=last)
        for conversation in DEMO_DIRECT:
            starter, recipient = users[conversation.starter], users[conversation.recipient]
            room = queries.direct_room(starter, recipient) or actions.do_open_direct_room(
                recipient, actor=starter
            )
            key = f"demo-dm-{conversation.starter}-{conversation.recipient}"
            written += self._post(room, key, conversation.lines[:1], users, now)
            if conversation.accepted:
                request = ContactRequest.objects.get(room=room)
                actions.do_accept_contact_request(request, actor=recipient)
                written += self._post(room, key, conversation.lines, users, now)
        return written

    def _post(self, room: Room, key: str, lines: list[Line], users: dict, now) -> int:
        written = 0
        posted: dict[int, Message] = {}
        for index, line in enumerate(lines):
            reply_to = posted[line.reply_to].pk if line.reply_to is not None else None
            result = actions.do_post_message(
                room,
                line.body,
                actor=users[line.author],
                client_id=f"{key}-{index}",
                reply_to=reply_to,
                posted_at=now - datetime.timedelta(minutes=line.minutes_ago),
            )
            posted[index] = result.message
            written += result.created
            for username, emoji in line.reactions:
                actions.do_react(result.message.pk, emoji, actor=users[username], add=True)
        return written

    @transaction.atomic
    def seed_user(self, username: str, password: str | None) -> str:
        email = f"{username}@{DEMO_EMAIL_DOMAIN}"
        user, _created = get_user_model().objects.get_or_create(
            username=username,
            defaults={"email": email, "date_of_birth": datetime.date(1990, 1, 1)},
        )
        # Reset each run, so that the printed password is always the right one.
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.is_active = True
        if not user.age_verified_at:
            user.age_verified_at = timezone.now()
            user.age_verification_method = AgeVerificationMethod.ATTESTATION
        # The demo's regulars: established members for moderation's trust levels, so
        # that their conversation is posted, not held (a new sign-up starts at level 0).
        user.date_joined = min(user.date_joined, timezone.now() - datetime.timedelta(days=90))
        user.save()
        address, _created = EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": True}
        )
        if not (address.verified and address.primary):
            address.verified = address.primary = True
            address.save(update_fields=["verified", "primary"])
        return user.email
