"""Typed audit event codes, numbered by area.

A number is permanent once an entry carries it: never renumber or reuse one
(the hash chain seals the number, and old entries must keep their meaning).

- 1000-1999 accounts and staff authentication
- 2000-2999 admin changes, groups and permissions
- 3000-3999 staff views of personal data, and the audit trail itself
- 4000-4999 moderation
- 5000-5999 compliance
- 6000-6999 rooms
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.IntegerChoices):
    # 1000-1999: accounts and staff authentication
    STAFF_LOGIN = 1001, _("connexion d'un membre du personnel")
    STAFF_LOGIN_FAILED = 1002, _("échec de connexion d'un membre du personnel")
    STAFF_OTP_FAILED = 1003, _("code de double authentification refusé")
    STAFF_LOGOUT = 1004, _("déconnexion d'un membre du personnel")
    STAFF_ACCOUNT_CREATED = 1010, _("compte du personnel créé")
    OTP_DEVICE_CONFIRMED = 1011, _("appareil de double authentification confirmé")
    OTP_BACKUP_CODES_REGENERATED = 1012, _("codes de secours régénérés")
    AGE_DOCUMENT_APPROVED = 1020, _("document d'âge approuvé")
    AGE_DOCUMENT_REJECTED = 1021, _("document d'âge refusé")
    AGE_VERIFIED_BY_ATTESTATION = 1022, _("âge vérifié par attestation signée")
    AGE_VERIFIED_BY_WALLET = 1023, _("âge vérifié par la preuve d'âge du portefeuille")
    AGE_DOCUMENT_EXPIRED = 1024, _("document d'âge expiré sans examen")
    ACCOUNT_DELETION_REQUESTED = 1030, _("suppression de compte demandée")
    # Forgetting a person or expired data (each app's own do_forget_*; compliance calls them)
    ACCOUNT_FORGOTTEN = 1040, _("compte anonymisé, profil effacé")
    CONNECTION_RECORDS_FORGOTTEN = 1041, _("données de connexion expirées effacées")
    ATTESTATION_CHALLENGES_FORGOTTEN = 1042, _("défis d'attestation d'âge expirés effacés")
    RESERVED_PSEUDONYMS_FORGOTTEN = 1043, _("réservations de pseudonymes expirées levées")
    # A staff member refused: no permission, no second factor, four-eyes rule (audit/refusals.py)
    STAFF_ATTEMPT_REFUSED = 1050, _("tentative d'un membre du personnel refusée")

    # 2000-2999: admin changes, groups and permissions
    ADMIN_ADDITION = 2001, _("ajout dans l'administration")
    ADMIN_CHANGE = 2002, _("modification dans l'administration")
    ADMIN_DELETION = 2003, _("suppression dans l'administration")
    GROUP_MEMBERSHIP_CHANGED = 2010, _("groupes d'un compte modifiés")
    PERMISSIONS_CHANGED = 2011, _("permissions modifiées")

    # 3000-3999: staff views of personal data, and the audit trail itself
    VIEW_ACCOUNT_DETAILS = 3001, _("consultation de la fiche d'un compte")
    VIEW_DIRECT_CONVERSATION = 3002, _("consultation d'une conversation privée")
    VIEW_IDENTITY_DOCUMENT = 3003, _("consultation d'un document d'identité")
    VIEW_CONNECTION_RECORDS = 3004, _("consultation des données de connexion")
    VIEW_PERSONAL_DATA = 3005, _("consultation de données personnelles dans l'administration")
    VIEW_PRIVATE_ROOM_MESSAGES = 3006, _("consultation de messages d'un salon privé")
    VIEW_PRESENCE = 3007, _("consultation des personnes présentes lors d'un message")
    VIEW_AUDIT_TRAIL = 3010, _("consultation du journal d'audit")
    EXPORT_AUDIT_TRAIL = 3011, _("export du journal d'audit")
    AUDIT_CHECKPOINT_SIGNED = 3020, _("point de contrôle du journal signé")
    AUDIT_PERSONAL_DATA_ERASED = 3021, _("données personnelles effacées du journal")
    STAFF_LOOK_RATE_EXCEEDED = 3030, _("consultations d'un membre du personnel au-delà du seuil")
    VIEW_CASE_FILE = 3041, _("consultation du dossier de modération d'un compte")

    # 4000-4999: moderation
    REPORT_FILED = 4001, _("signalement déposé")
    REPORT_CLAIMED = 4002, _("signalement pris en charge")
    REPORT_ACTIONED = 4003, _("signalement traité : mesure prise")
    REPORT_DISMISSED = 4004, _("signalement classé sans suite")
    NOTICE_FILED = 4005, _("notification publique reçue")
    SANCTION_ISSUED = 4010, _("sanction prononcée")
    SANCTION_LIFTED = 4011, _("sanction levée")
    MESSAGE_REMOVED = 4020, _("message supprimé par la modération")
    MESSAGE_HELD = 4021, _("message retenu par un filtre")
    HELD_MESSAGE_RELEASED = 4022, _("message retenu publié")
    HELD_MESSAGE_REJECTED = 4023, _("message retenu refusé")
    MESSAGE_FLAGGED = 4024, _("message signalé par un filtre")
    MESSAGE_BLOCKED = 4025, _("message bloqué par un filtre")
    APPEAL_FILED = 4030, _("recours déposé")
    APPEAL_DECIDED = 4031, _("recours décidé")
    SAFETY_SIGNAL_RAISED = 4040, _("signal de sécurité relevé")
    THREAT_ESCALATED = 4050, _("signalement aux autorités préparé (article 18)")
    ESCALATION_TRANSMITTED = 4051, _("signalement transmis aux autorités")
    ESCALATION_DECLINED = 4052, _("signalement aux autorités : non transmis, motif donné")
    REPORTING_SUSPENDED = 4060, _("signalements d'un compte suspendus (abus)")
    # DSA Art. 23, terms clause T14: the warning that comes before either suspension.
    MISUSE_WARNING_ISSUED = 4061, _("avertissement au titre de l'article 23")
    ACCOUNT_SUSPENDED_ART23 = 4062, _("compte suspendu : contenus manifestement illicites")
    MODERATION_MEMBER_FORGOTTEN = 4070, _("compte supprimé : état de modération oublié")
    MODERATION_RECORDS_FORGOTTEN = 4080, _("dossiers de modération expirés effacés")
    REPORT_SNAPSHOTS_REDACTED = 4081, _("contexte des signalements expurgé des textes effacés")
    # A room's owner or moderator acting in their room (moderation/actions/room_moderators.py).
    ROOM_MODERATOR_ACTED = 4090, _("mesure d'un modérateur de salon")
    ROOM_MODERATOR_ACTION_REVERSED = 4091, _("mesure d'un modérateur de salon annulée par l'équipe")
    # Ban and purge; reporters' reputation (docs/moderation.md).
    MESSAGES_PURGED = 4100, _("messages récents masqués avec un bannissement (purge)")
    MESSAGE_HIDDEN_PENDING_REVIEW = (
        4101,
        _("message masqué en attente d'examen (signaleurs fiables)"),
    )
    PENDING_HIDE_CONFIRMED = 4102, _("masquage en attente d'examen confirmé")
    PENDING_HIDE_REVERSED = 4103, _("masquage en attente d'examen annulé : message rétabli")
    # The live console (docs/moderation.md, "La console en direct").
    REPORT_RELEASED = 4110, _("signalement rendu à la file")
    REPORT_REASSIGNED = 4111, _("signalement confié à un autre modérateur")
    REPORT_ESCALATED = 4112, _("signalement transmis à un senior ou à la conformité")
    REPORT_THREAD_MESSAGE = 4113, _("message échangé avec l'auteur d'un signalement")
    # Raid mode (moderation/actions/raid_mode.py): switched on by staff or by the wave detector.
    RAID_MODE_STARTED = 4150, _("mode raid activé")
    RAID_MODE_TRIPPED = 4151, _("mode raid déclenché automatiquement")
    RAID_MODE_EXTENDED = 4152, _("mode raid prolongé")
    RAID_MODE_ENDED = 4153, _("mode raid arrêté")
    # The case file of an account (moderation/actions/notes.py, docs/moderation.md).
    MODERATOR_NOTE_ADDED = 4095, _("note de modération ajoutée au dossier d'un compte")
    MODERATOR_NOTE_EDITED = 4096, _("note de modération modifiée")

    # 5000-5999: compliance (compliance/actions/)
    LEGAL_REQUEST_OPENED = 5001, _("réquisition judiciaire enregistrée")
    LEGAL_REQUEST_VERIFIED = 5002, _("réquisition judiciaire vérifiée")
    LEGAL_REQUEST_PUT_ON_HOLD = 5003, _("réquisition judiciaire mise en attente")
    LEGAL_EXPORT_APPROVED = 5004, _("export d'une réquisition approuvé")
    LEGAL_REQUEST_EXPORTED = 5005, _("données d'une réquisition exportées")
    LEGAL_REQUEST_ANSWERED = 5006, _("réquisition judiciaire répondue")
    LEGAL_REQUEST_REFUSED = 5007, _("réquisition judiciaire refusée")
    LEGAL_HOLD_PLACED = 5010, _("conservation légale posée")
    LEGAL_HOLD_RELEASED = 5011, _("conservation légale levée")
    LEGAL_HOLD_EXPIRED = 5012, _("conservation légale arrivée à son terme")
    RETENTION_PURGE_RUN = 5020, _("purge de conservation exécutée")
    RETENTION_PURGE_BATCH = 5021, _("lot de la purge de conservation appliqué")
    REQUISITION_PACKAGES_ROTATED = 5025, _("paquets de réquisition expirés supprimés")
    BACKUPS_ROTATED = 5026, _("sauvegardes expirées de la base supprimées")
    ACCOUNT_DELETION_COMPLETED = 5030, _("suppression de compte effectuée")
    GDPR_DATA_EXPORTED = 5040, _("export RGPD de ses données par un membre")
    VIEW_LEGAL_REQUESTS = 5050, _("consultation des réquisitions judiciaires")
    VIEW_RESTRICTED_RECORDS = 5051, _("consultation des données conservées à titre légal")
    VIEW_TRANSPARENCY_DASHBOARD = 5052, _("consultation du tableau de bord de transparence")
    VIEW_ADDRESS_LOOKUP = 5053, _("recherche d'un compte par adresse IP, port et date")
    TRANSPARENCY_REPORT_PUBLISHED = 5060, _("rapport de transparence publié")
    # Authorities' orders other than requisitions (compliance/actions/orders.py).
    ORDER_ACKNOWLEDGED = 5070, _("réception d'une injonction confirmée à l'autorité")
    ORDER_EFFECT_GIVEN = 5071, _("injonction exécutée (retrait, conservation)")
    ORDER_SECRECY_LIFTED = 5072, _("confidentialité d'une injonction levée")
    PRESERVATION_EXTENDED = 5073, _("conservation européenne prolongée de 30 jours")
    PRESERVATION_CONFIRMED = (
        5074,
        _("conservation européenne confirmée par une demande de production"),
    )

    # 6000-6999: rooms (staff and room-staff actions; rooms/actions/)
    ROOM_CREATED = 6001, _("salon créé")
    ROOM_ARCHIVED = 6002, _("salon archivé")
    ROOM_OWNERSHIP_TRANSFERRED = 6003, _("propriété d'un salon transmise")
    ROOM_MODERATOR_SET = 6004, _("modérateur d'un salon nommé ou retiré par son propriétaire")
    ROOM_MESSAGE_DELETED = 6010, _("message masqué par un responsable")
    ROOM_MESSAGE_RESTORED = 6011, _("message rétabli")
    ROOMS_MEMBER_FORGOTTEN = 6030, _("compte supprimé : liens aux salons effacés")
    DELETED_MESSAGE_TEXTS_FORGOTTEN = 6031, _("textes de messages supprimés effacés")
    DELETED_MESSAGES_FORGOTTEN = 6032, _("opérations sur des messages supprimés effacées")
    CONTENT_OPERATIONS_FORGOTTEN = 6033, _("traces d'opérations sur les contenus expirées effacées")
    PRESENCE_INTERVALS_FORGOTTEN = 6034, _("intervalles de présence expirés effacés")


def event_choices() -> list[tuple[int, str]]:
    """The field's choices, as a callable: adding an event then needs no migration."""
    return AuditEvent.choices
