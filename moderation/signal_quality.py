"""Precision and recall of the child-safety text signals on a labelled set.

The set (moderation/data/child_safety_fr.tsv) holds French chat snippets written
for the purpose, positives and hard negatives, each labelled with the signals it
should raise. `measure()` runs the detectors the post path runs (detection.py)
on each snippet and counts, per signal, true and false positives and misses.
`manage.py measure_safety_signals` prints the figures; docs/moderation.md quotes
them with the floors below, which tests/moderation/test_signal_quality.py holds
the detectors to.
"""

from dataclasses import dataclass, field
from pathlib import Path

from moderation import detection

DATA = Path(__file__).resolve().parent / "data"
# The set the patterns were tuned on, and one written afterwards and never tuned on:
# its figures are the honest estimate of how the signals do on new text.
LABELLED_SETS = {
    "tuning": DATA / "child_safety_fr.tsv",
    "held-out": DATA / "child_safety_fr_holdout.tsv",
}
LABELLED_SET = LABELLED_SETS["tuning"]
# The year the set's years of birth are read against ("nee en 2012" is 14).
REFERENCE_YEAR = 2026

DETECTORS = {
    "minor": lambda folded, raw: detection.declared_minor(folded, year=REFERENCE_YEAR),
    "sextortion": lambda folded, raw: detection.sextortion(folded),
    "request": detection.asks_minor_for_contact,
}
SIGNALS = tuple(DETECTORS)

# The least each signal must score on each set (docs/moderation.md, "Measuring the
# signals"): a change to a pattern that drops below fails the tests.
FLOORS = {
    "tuning": {
        "minor": {"precision": 0.97, "recall": 0.95},
        "sextortion": {"precision": 0.95, "recall": 0.90},
        "request": {"precision": 0.90, "recall": 0.90},
    },
    "held-out": {
        "minor": {"precision": 0.95, "recall": 0.90},
        "sextortion": {"precision": 0.85, "recall": 0.70},
        "request": {"precision": 0.85, "recall": 0.85},
    },
}


def below_floors(name: str, figures: dict) -> list[str]:
    """The signals that score under the set's floors."""
    floors = FLOORS.get(name, {})
    return [
        signal
        for signal, counts in figures.items()
        if signal in floors
        and (
            counts.precision < floors[signal]["precision"]
            or counts.recall < floors[signal]["recall"]
        )
    ]


@dataclass
class Figures:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    positives: int = 0
    snippets: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0


def labelled_snippets(path: Path = LABELLED_SET) -> list[tuple[frozenset[str], str]]:
    """(expected signals, text) for each line; "#" lines are comments."""
    snippets = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        labels, sep, text = line.partition("\t")
        expected = frozenset() if labels.strip() == "-" else frozenset(labels.split(","))
        unknown = expected - set(SIGNALS)
        if not sep or not text.strip() or unknown:
            raise ValueError(f"{path.name}:{number}: expected 'signals<TAB>text', got {line!r}")
        snippets.append((expected, text))
    return snippets


def measure(path: Path = LABELLED_SET) -> dict[str, Figures]:
    figures = {signal: Figures() for signal in SIGNALS}
    for expected, text in labelled_snippets(path):
        folded = detection.chat_fold(text)
        for signal, detect in DETECTORS.items():
            counts = figures[signal]
            counts.snippets += 1
            found = bool(detect(folded, text))
            wanted = signal in expected
            counts.positives += wanted
            if found and wanted:
                counts.true_positives += 1
            elif found:
                counts.false_positives += 1
                counts.false_alarms.append(text)
            elif wanted:
                counts.false_negatives += 1
                counts.misses.append(text)
    return figures
