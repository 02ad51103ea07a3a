"""axe-core (vendored from npm, its integrity checked) run in the page the browser shows: every
rule that applies to WCAG 2.2 at levels A and AA, experimental ones included."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
# From the package's own sri-history.json (tests/browser/vendor/axe-core-*/SOURCE.txt).
AXE_INTEGRITY = "sha256-KTSJmUUM3yhJqOcLeRL8LahahJ2jnA0NU5T1HUqe2Vw="
AXE = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Every rule tagged with one of the levels, run by id (so experimental rules run too).
_RUN = """async (tags) => {
  const rules = axe.getRules(tags).map((rule) => rule.ruleId);
  const result = await axe.run(document, {
    runOnly: { type: "rule", values: rules },
    resultTypes: ["violations"],
  });
  return {
    version: axe.version,
    rules: rules.length,
    violations: result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((node) => node.target.join(" ")),
    })),
  };
}"""


@cache
def axe_source() -> str:
    data = AXE.read_bytes()
    digest = "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert digest == AXE_INTEGRITY, f"{AXE} is not axe-core {AXE_VERSION} as published"
    return data.decode("utf-8")


def violations(page: Page) -> list[str]:
    """Each WCAG 2.2 AA violation on the page as one line (rule, impact, where); none: []."""
    # Through the DevTools protocol, so the page's own Content-Security-Policy (no scripts
    # at all) still holds for everything the page itself loads.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    report: dict[str, Any] = page.evaluate(_RUN, WCAG_22_AA)
    assert report["version"] == AXE_VERSION
    assert report["rules"] >= 50, report["rules"]  # the levels' tags still select the rules
    return [
        f"{found['id']} ({found['impact']}): {found['help']} - at {', '.join(found['nodes'][:5])}"
        for found in report["violations"]
    ]
