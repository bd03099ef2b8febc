"""Settings follow docs/configuration.md: fail fast without a secret, production posture
when DEBUG is off, each app's defaults in its app_settings.py."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x7#Lq2vR9!mT4wZ8pN1cB6yH3jK0sD5fG-aE_uQ+oI^lV@eX&rC*tY(bM)nW",
    "ALLOWED_HOSTS": "chat.example.org",
    "SITE_URL": "https://chat.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    "EMAIL_URL": "smtp+tls://chatsite:secret@smtp.example.org:587",
    # The legal notice's values (compliance/checks.py warns without them).
    "LEGAL_ADDRESS": "1 rue de l'Exemple, 75000 Paris",
    "LEGAL_PHONE": "+33 1 00 00 00 00",
    "LEGAL_CONTACT_EMAIL": "contact@example.org",
    "LEGAL_DIRECTOR_NAME": "Camille Martin",
    "LEGAL_HOST_NAME": "Hébergeur Exemple",
    "LEGAL_HOST_ADDRESS": "2 rue de l'Hébergement, 75000 Paris",
    "LEGAL_HOST_PHONE": "+33 1 00 00 00 01",
    "AUTHORITIES_CONTACT_EMAIL": "requisitions@example.org",
}


# Variables of docs/configuration.md that the test environment sets: each subprocess
# starts without them, as a fresh deployment would.
CONTRACT_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "EMAIL_URL",
    "EMAIL_FILE_PATH",
    "CHATSITE_VAR_DIR",
}


def clean_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in CONTRACT_VARIABLES}
    clean.update(env, DJANGO_SETTINGS_MODULE="chatsite.settings")
    return clean


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=clean_env(**env), capture_output=True, text=True)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "-c", code], **env)


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_python("import django; django.setup()", DEBUG="0")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_dev_key_only_under_debug():
    result = run_python(
        "from django.conf import settings as s; print(s.SECRET_KEY.startswith('django-insecure'))",
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_production_posture():
    code = (
        "from django.conf import settings as s; from django.utils.csp import CSP;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS >= 31536000,"
        " s.PASSWORD_HASHERS[0].endswith('Argon2PasswordHasher'),"
        " CSP.NONCE in s.SECURE_CSP['script-src'], s.SECURE_CSP['connect-src'][-1])"
    )
    result = run_python(code, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"] * 6 + ["wss://chat.example.org"]


def test_check_deploy_is_clean_with_production_variables():
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_embedded_defaults_without_configuration():
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        " s.MAILERS['default']['BACKEND'], s.LANGUAGE_CODE, s.TIME_ZONE)"
    )
    result = run_python(code, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "django.core.mail.backends.filebased.EmailBackend",
        "fr",
        "Europe/Paris",
    ]


def test_postgresql_gets_a_connection_pool_unless_turned_off():
    code = "from django.conf import settings as s; print(s.DATABASES['default'].get('OPTIONS'))"
    url = "postgres://chatsite@127.0.0.1:5432/chatsite"
    pooled = run_python(code, DEBUG="1", DATABASE_URL=url, DATABASE_POOL_MAX_SIZE="7")
    assert pooled.returncode == 0, pooled.stderr
    assert "'pool': {" in pooled.stdout and "'max_size': 7" in pooled.stdout
    unpooled = run_python(code, DEBUG="1", DATABASE_URL=url, DATABASE_POOL="0")
    assert unpooled.returncode == 0, unpooled.stderr
    assert "pool" not in unpooled.stdout
    # SQLite has no pool to take.
    sqlite = run_python(code, DEBUG="1")
    assert "pool" not in sqlite.stdout


def test_redis_url_selects_channels_redis_and_redis_cache():
    code = (
        "from django.conf import settings as s;"
        "print(s.CHANNEL_LAYERS['default']['BACKEND'], s.CACHES['default']['BACKEND'],"
        " s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['socket_timeout'])"
    )
    result = run_python(code, DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "channels_redis.pubsub.RedisPubSubChannelLayer",
        "django.core.cache.backends.redis.RedisCache",
        "None",
    ]


APP_SETTINGS_CODE = (
    "import django; django.setup();"
    "from rooms.app_settings import app_settings as rooms;"
    "from accounts.app_settings import app_settings as accounts;"
    "from audit.app_settings import app_settings as audit;"
    "print(repr((rooms.MESSAGE_RATE_LIMIT, rooms.MAX_SOCKETS_PER_USER,"
    " accounts.TRUSTED_PROXIES, accounts.CLIENT_IP_HEADER, accounts.CLIENT_PORT_HEADER,"
    " audit.AUDIT_SIGNING_KEY, audit.AUDIT_VERIFY_KEY)))"
)
APP_VARIABLES = (
    "MESSAGE_RATE_LIMIT",
    "MAX_SOCKETS_PER_USER",
    "TRUSTED_PROXIES",
    "CLIENT_IP_HEADER",
    "CLIENT_PORT_HEADER",
    "AUDIT_SIGNING_KEY",
    "AUDIT_VERIFY_KEY",
)


def test_apps_defaults_apply_when_the_environment_is_silent(monkeypatch):
    for name in APP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    result = run_python(APP_SETTINGS_CODE, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(
        ("5/1", 20, [], "X-Forwarded-For", "X-Forwarded-Client-Port", "", "")
    )


def test_the_environment_reaches_the_apps_settings():
    env = {
        "MESSAGE_RATE_LIMIT": "off",
        "MAX_SOCKETS_PER_USER": "3",
        "TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
        "CLIENT_IP_HEADER": "X-Real-IP",
        "CLIENT_PORT_HEADER": "X-Real-Port",
        "AUDIT_SIGNING_KEY": "/keys/sign.pem",
        "AUDIT_VERIFY_KEY": "/keys/sign.pem.pub",
    }
    result = run_python(APP_SETTINGS_CODE, DEBUG="1", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(
        (
            "off",
            3,
            ["127.0.0.1", "10.0.0.0/8"],
            "X-Real-IP",
            "X-Real-Port",
            "/keys/sign.pem",
            "/keys/sign.pem.pub",
        )
    )


def test_apps_settings_are_read_at_each_use(settings, tmp_path):
    from accounts.app_settings import app_settings as accounts
    from compliance.app_settings import app_settings as compliance
    from rooms.app_settings import app_settings as rooms

    for name in ("COMPLIANCE_EXPORT_DIR", "COMPLIANCE_RETENTION", "ADMIN_LOGIN_RATE_LIMITS"):
        if hasattr(settings, name):
            delattr(settings, name)
    assert compliance.COMPLIANCE_EXPORT_DIR == settings.VAR_DIR / "legal-exports"
    assert compliance.COMPLIANCE_RETENTION == {}
    assert accounts.ADMIN_LOGIN_RATE_LIMITS == {"admin_login": "20/m/ip,10/15m/key"}
    settings.COMPLIANCE_EXPORT_DIR = str(tmp_path)
    settings.COMPLIANCE_RETENTION = {"identity_data": 400}
    settings.ADMIN_LOGIN_RATE_LIMITS = {"admin_login": "1/m/ip"}
    settings.MAX_SOCKETS_PER_USER = 4
    export_dir = compliance.COMPLIANCE_EXPORT_DIR
    assert export_dir == tmp_path
    assert compliance.COMPLIANCE_RETENTION == {"identity_data": 400}
    assert accounts.ADMIN_LOGIN_RATE_LIMITS == {"admin_login": "1/m/ip"}
    assert rooms.MAX_SOCKETS_PER_USER == 4
