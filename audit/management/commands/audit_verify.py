"""Checks the whole audit trail: exit 0 with a summary, or exit 1 naming the first bad entry."""

import os
import time

from django.core.management.base import BaseCommand, CommandError

from audit import checkpoints, queries
from audit.app_settings import app_settings

USAGE_ERROR = 2


class Command(BaseCommand):
    help = (
        "Verifies the audit trail's hash chain from the first entry; with --checkpoint, "
        "also that each signed checkpoint's entry is still in the trail with the same hash."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="a checkpoint written by audit_checkpoint (may be repeated)",
        )
        parser.add_argument(
            "--public-key",
            metavar="PEM",
            help="the trusted key for checkpoints (default: AUDIT_VERIFY_KEY, "
            "else the public half of AUDIT_SIGNING_KEY)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=min(8, os.cpu_count() or 1),
            help="processes checking ranges of the chain in parallel (default: up to 8)",
        )

    def handle(self, *args, checkpoint, public_key, workers, verbosity, **options):
        # Checkpoints are read first: a bad file or key is a usage error, not a verdict.
        trusted = self._checkpoints(checkpoint, public_key) if checkpoint else []
        started = time.monotonic()
        total = queries.chain_head()
        total_seq = total.seq if total else 0

        def progress(count: int) -> None:
            if verbosity >= 1:
                share = f" ({100 * count // total_seq}%)" if total_seq else ""
                self.stderr.write(f"audit_verify: {count} entries checked{share}")

        verifier = queries.verify_chain(progress=progress, workers=max(1, workers))
        for point in trusted:
            stored = queries.entry_hash_at(point.seq)
            if stored is None:
                verifier.problem(
                    point.seq,
                    f"missing, but the checkpoint signed at {point.signed_at} records it "
                    f"(the trail ends at entry {verifier.last_seq}): the trail was truncated",
                )
            elif stored != point.hash:
                verifier.problem(
                    point.seq,
                    f"its hash {stored[:16]}... differs from the one signed at "
                    f"{point.signed_at} ({point.hash[:16]}...): the trail was rewritten",
                )
        elapsed = time.monotonic() - started
        if verifier.problem_count:
            problems = sorted(verifier.problems, key=lambda problem: problem.seq)
            for problem in problems:
                self.stderr.write(f"audit_verify: {problem}")
            raise CommandError(
                f"audit trail NOT intact: {verifier.problem_count} problem(s) in "
                f"{verifier.checked} entries; first: {problems[0]}",
                returncode=1,
            )
        checked_points = f", {len(trusted)} signed checkpoint(s) matched" if trusted else ""
        self.stdout.write(
            f"audit trail intact: {verifier.checked} entries, head entry {verifier.last_seq} "
            f"({verifier.last_hash}){checked_points}, verified in {elapsed:.1f} s"
        )

    def _checkpoints(self, paths, public_key_path):
        path = public_key_path or app_settings.AUDIT_VERIFY_KEY or app_settings.AUDIT_SIGNING_KEY
        if not path:
            raise CommandError(
                "--checkpoint needs the trusted public key: --public-key, AUDIT_VERIFY_KEY "
                "or AUDIT_SIGNING_KEY",
                returncode=USAGE_ERROR,
            )
        try:
            key = checkpoints.load_public_key(path)
            return [checkpoints.read(checkpoint, key) for checkpoint in paths]
        except checkpoints.CheckpointError as exc:
            raise CommandError(str(exc), returncode=USAGE_ERROR) from exc
