"""deploy/ stays true to the code: the metric names its dashboard and alerts use,
the commands its units run, the settings its environment file sets."""

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands
from django.db import transaction
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.ops.conftest import signed_in

ROOT = Path(settings.BASE_DIR)
DEPLOY = ROOT / "deploy"
METRIC_NAME = re.compile(r"\bchatsite_[a-z_]+[a-z]\b")
SAMPLE_SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "chatsite.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value.strip('"')
    return values


@pytest.mark.django_db
def test_every_metric_named_in_deploy_and_docs_is_exposed(make_staff):
    from audit.actions import do_record_checkpoint
    from audit.events import AuditEvent
    from audit.trail import record
    from compliance.models import LegalBasis, LegalRequest

    reader = signed_in(make_staff(), otp_verified=True)
    # The families that appear only once something happened.
    now = timezone.now()
    LegalRequest.objects.create(
        reference="PV-9",
        authority="TJ",
        legal_basis=LegalBasis.OTHER,
        received_at=now,
        deadline=now + timedelta(days=5),
        period_start=now,
        period_end=now,
        assigned_officer=make_staff("compliance"),
    )
    do_record_checkpoint(actor=None, key_id="test")
    with transaction.atomic():
        record(AuditEvent.RETENTION_PURGE_RUN, actor=None, details={"dry_run": False})
        record(AuditEvent.BACKUPS_ROTATED, actor=None, details={"dry_run": False})
    exposed = {
        family.name
        for family in text_string_to_metric_families(reader.get("/metrics").content.decode())
    }
    sources = [
        DEPLOY / "prometheus" / "alerts.yml",
        DEPLOY / "grafana" / "chatsite-dashboard.json",
        ROOT / "docs" / "operations.md",
    ]
    for source in sources:
        text = source.read_text()
        if source.suffix == ".md":  # prose also names databases: only `quoted` names
            text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
            text = " ".join(re.findall(r"`([^`]+)`", text))
        named = set(METRIC_NAME.findall(text))
        assert named, source
        unknown = set()
        for name in named:
            family = name
            for suffix in SAMPLE_SUFFIXES:
                if family.endswith(suffix) and family.removesuffix(suffix) in exposed:
                    family = family.removesuffix(suffix)
            if family not in exposed:
                unknown.add(name)
        assert not unknown, f"{source.name} names metrics that do not exist: {sorted(unknown)}"


def test_the_dashboard_is_valid_json_with_queries():
    dashboard = json.loads((DEPLOY / "grafana" / "chatsite-dashboard.json").read_text())
    assert dashboard["panels"]
    assert all(panel["targets"][0]["expr"] for panel in dashboard["panels"])


def test_scheduled_jobs_run_commands_that_exist():
    commands = get_commands()
    units = list((DEPLOY / "systemd").glob("*.service"))
    ran = set()
    for unit in units:
        for line in unit.read_text().splitlines():
            if not line.startswith(("ExecStart=", "ExecStartPost=")):
                continue
            words = shlex.split(line.partition("=")[2].replace("%%", "%"))
            text = " ".join(words)
            for command in re.findall(r"manage\.py (\w+)", text):
                assert command in commands, (unit.name, command)
                ran.add(command)
            for script in re.findall(r"scripts/[\w.-]+", text):
                assert (ROOT / script).is_file(), (unit.name, script)
    assert {"purge_expired", "audit_checkpoint", "rotate_backups"} <= ran


def test_nginx_sends_the_headers_the_settings_read():
    nginx = (DEPLOY / "nginx" / "chatsite.conf").read_text()
    env = env_example()
    for header in (env["CLIENT_IP_HEADER"], env["CLIENT_PORT_HEADER"], "X-Forwarded-Proto"):
        assert f"proxy_set_header {header} " in nginx
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx
    assert "alias /var/lib/chatsite/static/;" in nginx  # STATIC_ROOT under CHATSITE_VAR_DIR
    assert env["CHATSITE_VAR_DIR"] == "/var/lib/chatsite"
    for port in re.findall(r"server 127\.0\.0\.1:(\d+);", nginx):
        assert 8001 <= int(port) <= 8099  # chatsite@<port>.service instances


def test_the_environment_file_passes_check_deploy():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DEBUG", "SECRET_KEY", "SECURE_", "SESSION_", "CSRF_"))
    }
    env.update(env_example())
    assert env["SECRET_KEY"] == ""  # the example holds no secret
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_nginx_accepts_the_configuration(tmp_path):
    """`nginx -t` on deploy/nginx/chatsite.conf, with a throwaway certificate."""
    nginx, openssl = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("openssl")
    if not Path(nginx).exists() or openssl is None:
        pytest.skip("nginx or openssl is not installed (Debian: nginx-light, openssl)")
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")),
            *("-subj", "/CN=chat.example.fr"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (tmp_path / "logs").mkdir()
    site = (
        (DEPLOY / "nginx" / "chatsite.conf")
        .read_text()
        .replace("/etc/letsencrypt/live/chat.example.fr/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/letsencrypt/live/chat.example.fr/privkey.pem", str(tmp_path / "key.pem"))
        .replace("/var/log/nginx/", f"{tmp_path}/logs/")
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
