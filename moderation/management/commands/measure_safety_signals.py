"""Precision and recall of the child-safety signals on the labelled sets (docs/moderation.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from moderation import signal_quality


class Command(BaseCommand):
    help = "Measures precision and recall of each child-safety signal on the labelled sets."
    # Text only: no database, so it runs anywhere (CI, a laptop without var/).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--set",
            dest="path",
            default="",
            help="another labelled TSV file (default: the tuning and the held-out sets)",
        )
        parser.add_argument(
            "--errors", action="store_true", help="list the misses and the false alarms"
        )

    def handle(self, *args, **options):
        if options["path"]:
            sets = {Path(options["path"]).name: Path(options["path"])}
        else:
            sets = signal_quality.LABELLED_SETS
        below = []
        for name, path in sets.items():
            figures = signal_quality.measure(path)
            self._table(name, figures, options["errors"])
            below += [f"{name}: {signal}" for signal in signal_quality.below_floors(name, figures)]
        if below:
            raise CommandError(f"below the floor: {', '.join(below)}")

    def _table(self, name: str, figures: dict, errors: bool) -> None:
        floors = signal_quality.FLOORS.get(name, {})
        self.stdout.write(f"\n{name}\n")
        self.stdout.write("| signal | snippets | positives | precision | recall | floors (P / R) |")
        self.stdout.write("|---|---|---|---|---|---|")
        for signal, counts in figures.items():
            floor = floors.get(signal)
            shown = f"{floor['precision']:.2f} / {floor['recall']:.2f}" if floor else "-"
            self.stdout.write(
                f"| {signal} | {counts.snippets} | {counts.positives} | "
                f"{counts.precision:.3f} ({counts.true_positives}/"
                f"{counts.true_positives + counts.false_positives}) | "
                f"{counts.recall:.3f} ({counts.true_positives}/{counts.positives}) | {shown} |"
            )
            if errors:
                for text in counts.misses:
                    self.stdout.write(f"  {signal} missed: {text}")
                for text in counts.false_alarms:
                    self.stdout.write(f"  {signal} false alarm: {text}")
