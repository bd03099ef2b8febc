"""The import layers (pyproject.toml, [tool.importlinter]; docs/architecture.md).

`make lint` runs lint-imports on the tree; these tests run it on a copy of the project's
packages, as they are and with one upward import planted, so the contract is shown to
hold and to catch a breach.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["chatsite", "compliance", "moderation", "rooms", "accounts", "audit", "core"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The project's Python packages and its pyproject.toml, without the rest."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    skip = shutil.ignore_patterns("__pycache__", "static", "templates", "locale", "*.po", "*.mo")
    for package in LAYERS:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=skip)
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tree,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        check=False,
    )


def test_the_project_keeps_its_layers(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tree):
    # The trail is the ground floor: it may never reach up into compliance.
    (tree / "audit" / "planted.py").write_text("from compliance import retention  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "audit is not allowed to import compliance" in result.stdout
    assert "audit.planted -> compliance.retention" in result.stdout
