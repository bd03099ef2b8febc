"""python manage.py export_legal_request <id> --out DIR [--officer USERNAME]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from compliance.actions import do_export_legal_request
from compliance.models import LegalRequest
from core.refusals import Refused


class Command(BaseCommand):
    help = (
        "Writes a requisition's data package (a zip with manifest.json and the SHA-256 of "
        "every file) into DIR. A second compliance officer must have approved the export."
    )

    def add_arguments(self, parser):
        parser.add_argument("request_id", type=int)
        parser.add_argument("--out", required=True, help="directory for the package")
        parser.add_argument(
            "--officer",
            help="the exporting compliance officer (the actor; must not be the approver)",
        )

    def handle(self, *args, request_id, out, officer=None, **options):
        request = LegalRequest.objects.filter(pk=request_id).first()
        if request is None:
            raise CommandError(f"no legal request with id {request_id}")
        actor = None
        if officer:
            actor = User.objects.filter(username=officer, is_active=True).first()
            if actor is None:
                raise CommandError(f"no active account named {officer!r}")
        directory = Path(out)
        directory.mkdir(parents=True, exist_ok=True)
        try:
            package = do_export_legal_request(request, actor=actor, out_dir=directory)
        except Refused as refusal:
            raise CommandError(f"export refused ({refusal.code}): {refusal.detail}") from None
        self.stdout.write(str(package.path))
        self.stdout.write(f"sha256 {package.sha256}")
