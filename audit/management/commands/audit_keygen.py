"""Creates the Ed25519 key pair that signs audit checkpoints."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import checkpoints


class Command(BaseCommand):
    help = (
        "Writes a new Ed25519 private key (mode 0600) and its public key (FILE.pub) for "
        "audit_checkpoint. Keep the private key out of the database and its backups."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, metavar="FILE")
        parser.add_argument("--force", action="store_true", help="replace an existing key")

    def handle(self, *args, out, force, **options):
        private_path, public_path = Path(out), Path(f"{out}.pub")
        if private_path.exists() and not force:
            raise CommandError(f"{private_path} exists: pass --force to replace it", returncode=2)
        key = checkpoints.generate_key()
        private_path.parent.mkdir(parents=True, exist_ok=True)
        private_path.unlink(missing_ok=True)
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(checkpoints.private_key_pem(key))
        public_path.write_bytes(checkpoints.public_key_pem(key.public_key()))
        self.stdout.write(
            f"key {checkpoints.key_id(key.public_key())}: private key {private_path}, "
            f"public key {public_path}"
        )
