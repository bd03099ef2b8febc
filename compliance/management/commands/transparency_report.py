"""python manage.py transparency_report --start DAY --end DAY --format json|csv|html"""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string
from django.utils import translation

from compliance import transparency

FORMATS = ("json", "csv", "html")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date in the YYYY-MM-DD form") from None


class Command(BaseCommand):
    help = "Transparency figures for a period (both days included), as JSON, CSV or HTML."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--format", choices=FORMATS, default="json")
        parser.add_argument("--out", help="write to this file instead of standard output")

    def handle(self, *args, start, end, format, out=None, **options):
        try:
            period = transparency.Period(_day(start), _day(end))
        except ValueError as error:
            raise CommandError(str(error)) from None
        report = transparency.build_report(period)
        if format == "json":
            text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
        elif format == "csv":
            text = transparency.render_csv(report)
        else:
            with translation.override("fr"):
                text = render_to_string(
                    "compliance/transparency_report.html",
                    {
                        **transparency.chart_context(report),
                        "sections": transparency.template_sections(report),
                    },
                )
        if out:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
