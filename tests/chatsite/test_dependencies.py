"""The runtime and development locks stay apart (README, "Dependencies and why").

A production install (`make run`, `make .venv`) reads requirements.lock alone, so no test
runner, browser driver or linter may appear there; the development lock is compiled
against it, so a package named by both has the same version in each.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\]+)")
DEV_ONLY = {
    "pytest",
    "pytest-django",
    "pytest-asyncio",
    "pytest-timeout",
    "hypothesis",
    "playwright",
    "ruff",
}


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        if match := PIN.match(line):
            found[match[1].lower()] = match[2]
    return found


def test_the_runtime_lock_carries_no_test_or_lint_tool():
    runtime = pins("requirements.lock")
    assert "django" in runtime and "daphne" in runtime
    assert not DEV_ONLY & runtime.keys()


def test_the_development_lock_holds_the_tools_and_agrees_with_the_runtime_versions():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert dev.keys() >= DEV_ONLY
    shared = runtime.keys() & dev.keys()
    disagreeing = {n: (runtime[n], dev[n]) for n in shared if runtime[n] != dev[n]}
    assert disagreeing == {}


def test_every_pin_of_both_locks_is_hashed():
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / name).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        assert blocks
        for block in blocks:
            if PIN.match(block):
                assert "--hash=sha256:" in block, f"{name}: {block.splitlines()[0]} has no hash"
