"""Precision and recall of the child-safety signals on the labelled sets: the floors
documented in docs/moderation.md hold, and the command prints the figures."""

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from moderation import signal_quality

DOC = Path(__file__).resolve().parents[2] / "docs" / "moderation.md"


@pytest.mark.parametrize("name", list(signal_quality.LABELLED_SETS))
def test_each_signal_scores_at_least_its_documented_floor(name):
    figures = signal_quality.measure(signal_quality.LABELLED_SETS[name])
    for signal, counts in figures.items():
        floor = signal_quality.FLOORS[name][signal]
        assert counts.positives >= 8, (name, signal)  # enough positives to mean something
        assert counts.precision >= floor["precision"], (name, signal, counts.false_alarms)
        assert counts.recall >= floor["recall"], (name, signal, counts.misses)


def test_the_sets_are_large_enough_and_hold_hard_negatives():
    snippets = signal_quality.labelled_snippets()
    assert len(snippets) >= 300
    negatives = [text for labels, text in snippets if not labels]
    assert "mon fils a 14 ans" in negatives and "la 4e saison est nulle" in negatives
    assert len(signal_quality.labelled_snippets(signal_quality.LABELLED_SETS["held-out"])) >= 80


def test_the_documented_floors_are_the_ones_tested():
    text = DOC.read_text(encoding="utf-8")
    assert "manage.py measure_safety_signals" in text
    for name, floors in signal_quality.FLOORS.items():
        for signal, floor in floors.items():
            floors_cell = f"{floor['precision']:.2f} / {floor['recall']:.2f}"
            row = rf"\| {re.escape(name)} \| {signal} \|[^\n]*\| {floors_cell} \|"
            assert re.search(row, text), f"docs/moderation.md has no floor row for {name} {signal}"


def test_a_mislabelled_set_is_refused(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("minor j'ai 14 ans sans tabulation\n", encoding="utf-8")
    with pytest.raises(ValueError):
        signal_quality.labelled_snippets(bad)


def test_the_command_prints_the_figures_and_fails_below_a_floor(tmp_path):
    out = io.StringIO()
    call_command("measure_safety_signals", stdout=out)
    printed = out.getvalue()
    assert "| minor |" in printed and "| sextortion |" in printed and "held-out" in printed
    # A set on which the patterns score badly fails the command only for known floors;
    # a set named "tuning" is held to the tuning floors.
    worse = tmp_path / "tuning"
    worse.write_text("minor\tbonjour\nminor\tsalut\n-\tj'ai 14 ans\n", encoding="utf-8")
    figures = signal_quality.measure(worse)
    assert figures["minor"].recall == 0 and figures["minor"].precision == 0
    assert signal_quality.below_floors("tuning", figures) == ["minor"]
    with pytest.raises(CommandError):
        call_command("measure_safety_signals", "--set", str(worse), stdout=io.StringIO())
