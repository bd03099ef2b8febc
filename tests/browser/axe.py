"""axe-core in the browser tests: the WCAG 2.2 AA rules run on a live page.

axe-core comes from the npm registry, pinned in package-lock.json and installed in
node_modules/ by `make test` (`npm ci`). It is never served by the site: the test
evaluates its source in the page through Playwright (`page.evaluate`), which goes
through the DevTools protocol and so is not subject to the page's Content Security
Policy. The site's CSP stays exactly as in production (no `bypass_csp`), so the page
under test is the one users get; only the checker itself arrives out of band.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# WCAG 2.0, 2.1 and 2.2 at levels A and AA: the bar.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

_source: str | None = None


def axe_source() -> str:
    global _source
    if _source is None:
        if not AXE_PATH.exists():
            message = f"{AXE_PATH} is missing: run `make test` (npm ci installs axe-core)"
            if os.environ.get("CHATSITE_REQUIRE_SERVICES") == "1":
                pytest.fail(message)
            pytest.skip(message)
        _source = AXE_PATH.read_text()
    return _source


def run_axe(page) -> list[dict]:
    """The page's WCAG A/AA violations, every impact, as axe reports them."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # The bundle as a plain expression (Runtime.evaluate): `eval` inside the
        # page would be refused by the CSP (no 'unsafe-eval'), this is not.
        page.evaluate(axe_source() + "\n;true")
    results = page.evaluate(
        """tags => axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        WCAG_TAGS,
    )
    return results["violations"]


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict], *, where: str = "") -> str:
    """Rule ids, impact, help URL and the offending nodes, readable in a test failure."""
    lines = []
    for violation in violations:
        lines.append(
            f"{where}[{violation['impact']}] {violation['id']}: {violation['help']}"
            f" ({violation['helpUrl']})"
        )
        for node in violation["nodes"][:5]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}\n      {node['html'][:160]}\n      {summary[:300]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more nodes")
    return "\n".join(lines)
