"""Chatsite settings: one module, driven by environment variables.

The embedded defaults (no environment at all) give a working development site:
SQLite under var/, the in-memory channel layer and e-mail written to var/mail/.
Production posture follows from DEBUG being off (see docs/configuration.md).
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from chatsite.env import env_bool, env_list, env_str
from chatsite.services import redis_cache, redis_channel_layer

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CHATSITE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (see docs/configuration.md)."
        )
    # Development only: never used when DEBUG is off.
    SECRET_KEY = "django-insecure-dev-only-key-chatsite-do-not-use-in-production-0123"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in ("http", "https") or not _site.netloc:
    raise ImproperlyConfigured("SITE_URL must be an absolute http(s) origin.")
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]


def _origin(value: str, name: str) -> str:
    """`scheme://host[:port]`, lower case, nothing else: an exact origin."""
    parts = urlsplit(value.strip().lower())
    host = parts.hostname or ""
    if (
        parts.scheme not in ("http", "https")
        or not host
        or host.startswith((".", "*"))
        or parts.path.strip("/")
        or parts.query
        or parts.username
    ):
        raise ImproperlyConfigured(f"{name}: {value!r} is not an origin (scheme://host[:port]).")
    return f"{parts.scheme}://{parts.netloc}"


# WebSocket handshakes are accepted only from these exact origins (scheme, host
# and port): SITE_URL's, then ALLOWED_ORIGINS (chatsite/asgi.py; docs/security.md).
WEBSOCKET_ALLOWED_ORIGINS = [
    _origin(origin, name)
    for name, origins in (
        ("SITE_URL", [SITE_URL]),
        ("ALLOWED_ORIGINS", env_list("ALLOWED_ORIGINS", "")),
    )
    for origin in origins
]

# --- Applications -----------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    # django.contrib.admin with the OTP-protected site (django_otp OTPAdminSite).
    "accounts.admin_config.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Ours, lowest layer first (imports point down, see STYLE.md).
    "audit",
    "accounts",
    "rooms",
    "moderation",
    "compliance",
]

MIDDLEWARE = [
    # First: every later log line and the response carry the request id.
    "chatsite.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Personal pages and every /api/ answer: Cache-Control: no-store.
    "chatsite.caching.PrivateResponsesMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # An OTP-verified staff request marks its moderator online (moderation/staff_presence.py).
    "moderation.staff_presence.StaffActivityMiddleware",
    # A staff member's PermissionDenied is a refused attempt: audited (audit/refusals.py).
    "audit.refusals.StaffRefusalMiddleware",
    "chatsite.logs.LogUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

# With DEBUG off the process serves its own static files (WhiteNoise), right
# after the security headers and before sessions; SERVE_STATIC=0 leaves them to
# a reverse proxy (deploy/nginx) and spares each handler WhiteNoise's start-up
# scan of STATIC_ROOT (the test client makes one handler per client).
SERVE_STATIC = env_bool("SERVE_STATIC", True)
if SERVE_STATIC and not DEBUG:
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "moderation.context_processors.navigation",
                "rooms.context_processors.navigation",
            ],
        },
    },
]

# --- Data stores ------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'chatsite.sqlite3'}")
# Under ASGI every request and consumer call runs in a thread of its own, so
# persistent connections would pile up: CONN_MAX_AGE=0 (STYLE.md, rule 8), and on
# PostgreSQL psycopg's pool instead, so that a post does not pay for a new
# connection and a new server backend (docs/performance.md). DATABASE_POOL=off
# when a transaction-mode pgbouncer already pools in front of the server.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
DATABASE_POOL = env_bool("DATABASE_POOL", True)
DATABASE_POOL_MAX_SIZE = int(env_str("DATABASE_POOL_MAX_SIZE", "20"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        # A request that cannot get a connection in time fails clearly rather than hanging.
        "timeout": 10,
        # Connections idle this long are closed, down to min_size.
        "max_idle": 300,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default is a real mode (docs/performance.md, "SQLite"). WAL:
    # readers never wait for the writer. IMMEDIATE: a transaction takes the
    # write lock at BEGIN, so it waits (up to `timeout` seconds) instead of
    # failing at once with "database is locked" when it upgrades a read lock
    # that another writer holds. synchronous=NORMAL is durable under WAL
    # against a process crash, and much cheaper than FULL.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": int(env_str("DATABASE_BUSY_TIMEOUT", "20")),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
    # A file, not memory, so that a browser test's server process can share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif env_str("CHATSITE_TEST_DATABASE_NAME", ""):
    # scripts/testenv names the test database after the checkout, so that two
    # suites on one machine never share (and drop) each other's database.
    DATABASES["default"]["TEST"] = {"NAME": env_str("CHATSITE_TEST_DATABASE_NAME", "")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    _prefix = env_str("REDIS_PREFIX", "chatsite")
    CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_URL, _prefix)}
    CACHES = {"default": redis_cache(REDIS_URL, _prefix)}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication -----------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/rooms/"

# django-allauth
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
# Off for mail scanners; the browser that signed up confirms on one click anyway
# (accounts/confirmation.py).
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PRESERVE_USERNAME_CASING = True
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Chatsite] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = _site.scheme
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# The sign-up form adds date_of_birth (under 18: refused, nothing stored).
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
# Changing the address replaces it only once the new one is confirmed.
ACCOUNT_CHANGE_EMAIL = True
# The browser that signed up is signed in by the link (same session only).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
if env_str("ACCOUNT_RATE_LIMITS", "").lower() == "off":
    # Test and load runs only (docs/configuration.md).
    ACCOUNT_RATE_LIMITS = False

# django-otp
OTP_TOTP_ISSUER = "Chatsite"

# Apps' own settings below have their defaults in the app (<app>/app_settings.py,
# docs/configuration.md): they are set here only when the environment gives them.

# Connection records (décret 2021-1362): behind a reverse proxy listed here, the
# client's IP and source port are read from these headers (accounts/app_settings.py).
if "TRUSTED_PROXIES" in os.environ:
    TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
if "CLIENT_IP_HEADER" in os.environ:
    CLIENT_IP_HEADER = os.environ["CLIENT_IP_HEADER"]
if "CLIENT_PORT_HEADER" in os.environ:
    CLIENT_PORT_HEADER = os.environ["CLIENT_PORT_HEADER"]

# --- Audit trail -------------------------------------------------------------------
# Ed25519 keys for signed checkpoints, kept outside the database (docs/audit.md):
# the private key signs (audit_checkpoint), the public key verifies (audit_verify).
if "AUDIT_SIGNING_KEY" in os.environ:
    AUDIT_SIGNING_KEY = os.environ["AUDIT_SIGNING_KEY"]
if "AUDIT_VERIFY_KEY" in os.environ:
    AUDIT_VERIFY_KEY = os.environ["AUDIT_VERIFY_KEY"]
# Who watches the watchers: the rate of staff looks at private conversations and
# identity files that raises an alert (audit/watch.py, docs/audit.md).
if "AUDIT_LOOK_ALERT_THRESHOLD" in os.environ:
    AUDIT_LOOK_ALERT_THRESHOLD = int(os.environ["AUDIT_LOOK_ALERT_THRESHOLD"])
if "AUDIT_LOOK_ALERT_WINDOW_SECONDS" in os.environ:
    AUDIT_LOOK_ALERT_WINDOW_SECONDS = int(os.environ["AUDIT_LOOK_ALERT_WINDOW_SECONDS"])
if "AUDIT_LOOK_ALERT_EMAIL" in os.environ:
    AUDIT_LOOK_ALERT_EMAIL = os.environ["AUDIT_LOOK_ALERT_EMAIL"]
# Mailed when an authority's order with a deadline in hours arrives (compliance/orders.py).
if "COMPLIANCE_ORDER_ALERT_EMAIL" in os.environ:
    COMPLIANCE_ORDER_ALERT_EMAIL = os.environ["COMPLIANCE_ORDER_ALERT_EMAIL"]

# --- Moderation: DSA Art. 23 thresholds (moderation/app_settings.py, terms clause T14) ---
for _name in (
    "MODERATION_UNFOUNDED_REPORTS_MIN_DECIDED",
    "MODERATION_UNFOUNDED_REPORTS_PERCENT",
    "MODERATION_UNFOUNDED_REPORTS_WINDOW_DAYS",
    "MODERATION_REPORTING_SUSPENSION_DAYS",
    "MODERATION_ILLEGAL_CONTENT_THRESHOLD",
    "MODERATION_ILLEGAL_CONTENT_WINDOW_DAYS",
    "MODERATION_ILLEGAL_CONTENT_SUSPENSION_DAYS",
):
    if _name in os.environ:
        globals()[_name] = int(os.environ[_name])
# Ban and purge, reporters' reputation (moderation/app_settings.py, docs/moderation.md).
for _name in (
    "MODERATION_PURGE_MAX_HOURS",
    "MODERATION_AUTOHIDE_MIN_DECIDED",
    "MODERATION_AUTOHIDE_REPORTERS",
    "MODERATION_ONLINE_MINUTES",
):
    if _name in os.environ:
        globals()[_name] = int(os.environ[_name])
for _name in (
    "MODERATION_REPUTATION_PRIOR_UPHELD",
    "MODERATION_REPUTATION_PRIOR_DECIDED",
    "MODERATION_AUTOHIDE_MIN_PRECISION",
):
    if _name in os.environ:
        globals()[_name] = float(os.environ[_name])

# Trust levels (moderation/app_settings.py): the gates, the limits and the
# levels' thresholds given as numbers; `TRUST_GATES=off` for test and load runs only.
if "TRUST_GATES" in os.environ:
    TRUST_GATES = os.environ["TRUST_GATES"]
for _name in (
    "TRUST_SANCTION_WINDOW_DAYS",
    "TRUST_LINKS_MIN_LEVEL",
    "TRUST_CONTACT_DETAILS_MIN_LEVEL",
    "TRUST_BUSY_ROOM_MIN_LEVEL",
    "TRUST_BUSY_ROOM_FIRST_MESSAGES",
    "TRUST_BUSY_ROOM_MESSAGES",
    "TRUST_BUSY_ROOM_WINDOW_MINUTES",
):
    if _name in os.environ:
        globals()[_name] = int(os.environ[_name])
if "TRUST_DIRECT_CONVERSATIONS_PER_HOUR" in os.environ:
    TRUST_DIRECT_CONVERSATIONS_PER_HOUR = [
        int(number) for number in os.environ["TRUST_DIRECT_CONVERSATIONS_PER_HOUR"].split(",")
    ]
# Room moderators' mute and kick durations, in minutes, comma separated.
if "ROOM_MODERATOR_DURATIONS" in os.environ:
    ROOM_MODERATOR_DURATIONS = [
        int(minutes) for minutes in os.environ["ROOM_MODERATOR_DURATIONS"].split(",")
    ]
# --- Moderation: raid mode (moderation/app_settings.py, docs/configuration.md) ---
for _name in (
    "RAID_MODE_DURATION_MINUTES",
    "RAID_SIGNUPS_THRESHOLD",
    "RAID_SIGNUPS_WINDOW_SECONDS",
    "RAID_JOINS_THRESHOLD",
    "RAID_JOINS_WINDOW_SECONDS",
    "RAID_DIRECT_CONVERSATIONS_THRESHOLD",
    "RAID_DIRECT_CONVERSATIONS_WINDOW_SECONDS",
    "RAID_RECENT_ACCOUNT_HOURS",
    "RAID_FIRST_MESSAGES_HELD",
    "RAID_SLOW_MODE_SECONDS",
):
    if _name in os.environ:
        globals()[_name] = int(os.environ[_name])

# --- Channels and messaging ---------------------------------------------------
# The sending limit and the sockets one user may hold open (rooms/app_settings.py).
if "MESSAGE_RATE_LIMIT" in os.environ:
    MESSAGE_RATE_LIMIT = os.environ["MESSAGE_RATE_LIMIT"]
if "MAX_SOCKETS_PER_USER" in os.environ:
    MAX_SOCKETS_PER_USER = int(os.environ["MAX_SOCKETS_PER_USER"])
# A reconnect within this many seconds extends a presence interval (docs/moderation.md).
if "PRESENCE_MERGE_GAP_SECONDS" in os.environ:
    PRESENCE_MERGE_GAP_SECONDS = int(os.environ["PRESENCE_MERGE_GAP_SECONDS"])
if "PRESENCE_LIST_MAX" in os.environ:
    PRESENCE_LIST_MAX = int(os.environ["PRESENCE_LIST_MAX"])

# --- Age attestation ------------------------------------------------------------
AGE_ATTESTATION_JWKS = env_str("AGE_ATTESTATION_JWKS", "")
AGE_ATTESTATION_ISSUERS = env_list("AGE_ATTESTATION_ISSUERS", "")
AGE_ATTESTATION_PROVIDER_URL = env_str("AGE_ATTESTATION_PROVIDER_URL", "")
# The wallet's proof of age: a PEM file of the trusted issuers' IACA root
# certificates (unset: none; the demonstration issuer's root only under DEBUG).
AGE_WALLET_TRUST_LIST = env_str("AGE_WALLET_TRUST_LIST", "")

# --- E-mail ---------------------------------------------------------------------
EMAIL_URL = env_str("EMAIL_URL", "")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Chatsite <no-reply@chatsite.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_URL:
    _mail = urlsplit(EMAIL_URL)
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _mail.hostname or "localhost",
                "port": _mail.port or (465 if _mail.scheme == "smtps" else 587),
                "username": unquote(_mail.username or ""),
                "password": unquote(_mail.password or ""),
                "use_ssl": _mail.scheme == "smtps",
                "use_tls": _mail.scheme in ("smtp+tls", "submission"),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))},
        }
    }

# --- Legal notice, privacy and authorities' contact (docs/configuration.md) ----------
# Shown on /legal/ (LCEN art. 6-III), /privacy/ (GDPR art. 13) and /authorities/:
# an empty value is shown as "not provided", so production must set them all.
LEGAL_PUBLISHER_NAME = env_str("LEGAL_PUBLISHER_NAME", "Chatsite")
# Legal form, share capital, RCS or SIREN number of a company; empty for a person.
LEGAL_PUBLISHER_REGISTRATION = env_str("LEGAL_PUBLISHER_REGISTRATION", "")
LEGAL_ADDRESS = env_str("LEGAL_ADDRESS", "")
LEGAL_PHONE = env_str("LEGAL_PHONE", "")
LEGAL_CONTACT_EMAIL = env_str("LEGAL_CONTACT_EMAIL", "contact@chatsite.localhost")
LEGAL_DIRECTOR_NAME = env_str("LEGAL_DIRECTOR_NAME", "")
LEGAL_HOST_NAME = env_str("LEGAL_HOST_NAME", "")
LEGAL_HOST_ADDRESS = env_str("LEGAL_HOST_ADDRESS", "")
LEGAL_HOST_PHONE = env_str("LEGAL_HOST_PHONE", "")
PRIVACY_CONTACT_EMAIL = env_str("PRIVACY_CONTACT_EMAIL", LEGAL_CONTACT_EMAIL)
# The processors the privacy page names besides the host (compliance/disclosures.py).
for _name in ("PRIVACY_AGE_VERIFICATION_PROVIDER", "PRIVACY_MAIL_PROVIDER"):
    if _name in os.environ:
        globals()[_name] = os.environ[_name]
AUTHORITIES_CONTACT_EMAIL = env_str("AUTHORITIES_CONTACT_EMAIL", "requisitions@chatsite.localhost")

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# One process is a working deployment: with DEBUG off, WhiteNoise serves what
# `collectstatic` put in STATIC_ROOT, under content-hashed names, compressed,
# with a year's `immutable` cache (make run collects; docs/deploy.md). Under
# DEBUG the files come straight from the source folders, unhashed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploaded identity documents live here and are never served by URL.
PRIVATE_MEDIA_ROOT = VAR_DIR / "private"
# Database backups (scripts/backup.py writes them, rotate_backups deletes them by policy).
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))

# --- Security -----------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Behind a TLS-terminating proxy that sets it (docs/deploy.md).
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

_ws_scheme = "wss" if _site.scheme == "https" else "ws"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    # 'self' covers ws(s) in current browsers; the explicit origin covers the rest.
    "connect-src": [CSP.SELF, f"{_ws_scheme}://{_site.netloc}"],
    "manifest-src": [CSP.SELF],
    "worker-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Logging ----------------------------------------------------------------------
# One JSON object per line in production, a readable line under DEBUG; no
# message body, password or address in either (docs/operations.md, "Logs").
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json").lower()
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "chatsite.logs.ContextFilter"},
        "redact": {"()": "chatsite.logs.RedactFilter"},
    },
    "formatters": {
        "json": {"()": "chatsite.logs.JsonFormatter"},
        "plain": {"()": "chatsite.logs.PlainFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"level": env_str("DJANGO_LOG_LEVEL", "INFO")},
        # The channel layer logs dropped messages at INFO only: surface them.
        "channels_redis": {"level": "INFO"},
    },
}
