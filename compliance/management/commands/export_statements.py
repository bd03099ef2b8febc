"""python manage.py export_statements --start DAY --end DAY --out FILE

The period's statements of reasons as JSON lines in the DSA Transparency
Database's API form (compliance/dsa_export.py), each validated against the
schema kept in compliance/schemas/. One line that fails stops the export with
its statement and the reasons, and leaves no file behind.
"""

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compliance import dsa_export, transparency
from compliance.management.commands.transparency_report import _day


class Command(BaseCommand):
    help = (
        "Statements of reasons of a period (both days included) as JSON lines for the "
        "DSA Transparency Database, validated against its schema."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--out", required=True, help="the JSON lines file to write")

    def handle(self, *args, start, end, out, **options):
        try:
            period = transparency.Period(_day(start), _day(end))
        except ValueError as error:
            raise CommandError(str(error)) from None
        target = Path(out)
        # Written aside, then moved into place: a failed export leaves no half file.
        handle, partial = tempfile.mkstemp(
            dir=target.parent if str(target.parent) else ".", prefix=".export-", suffix=".part"
        )
        count = 0
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                for line in dsa_export.export_lines(period):
                    stream.write(line + "\n")
                    count += 1
            os.replace(partial, target)
        except dsa_export.InvalidSubmission as invalid:
            os.unlink(partial)
            raise CommandError(
                f"statement #{invalid.statement_id} does not match the Transparency Database "
                f"schema ({dsa_export.SCHEMA_PATH.name}): " + "; ".join(invalid.errors)
            ) from None
        except BaseException:
            if os.path.exists(partial):
                os.unlink(partial)
            raise
        self.stdout.write(f"{count} statements of reasons written to {target}")
