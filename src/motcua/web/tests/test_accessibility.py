"""axe-core on every page of the citizen's, the official's and the data clerk's journeys
(motcua.web.journeys), at a desktop's and a phone's width: no violation of serious or critical
impact. One walk for the module (one browser, one sign-in per role); each page and width is a
test of its own, so a failure names the page and lists what axe found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from motcua.web.journeys import SHOWN, STOPS, WIDTHS, Stop, walk
from motcua.web.tests.journey_site import demo_site

# The walk's data is the module's (see journey_site); each test only reads what it found, in a
# transaction of its own that the marker asks pytest-django to set the test database up for.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# axe-core from the npm registry (package.json), as `make setup` installs it.
AXE = Path(__file__).resolve().parents[4] / "node_modules" / "axe-core" / "axe.min.js"
GRAVE = ("serious", "critical")
RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => n.target.join(" ")),
  }));
}"""

Found = dict[tuple[str, int], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def audited(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[tuple[str, int], str], Found]]:
    """Walk the journeys once, running axe on each page at each width."""
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: run `make setup` (npm ci)")
    source = AXE.read_text()
    found: Found = {}

    def visit(page: Page, stop: Stop, width: int) -> None:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.add_script_tag(content=source)  # the context bypasses the CSP for this
        found[(stop.name, width)] = page.evaluate(RUN_AXE)

    with django_db_blocker.unblock(), demo_site() as (url, cast):
        outcomes = walk(
            base_url=url,
            cast=cast,
            visit=visit,
            widths=WIDTHS,
            bypass_csp=True,
            scratch=tmp_path_factory.mktemp("axe"),
        )
        yield outcomes, found


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: f"{w}px")
@pytest.mark.parametrize("stop", STOPS, ids=lambda s: f"{s.number:02d}-{s.name}")
def test_no_serious_accessibility_violations(
    audited: tuple[dict[tuple[str, int], str], Found], stop: Stop, width: int
) -> None:
    outcomes, found = audited
    outcome = outcomes.get((stop.name, width), "not reached: the journey ended before it")
    if outcome.startswith("skipped"):
        pytest.skip(f"{stop.name}: {outcome}")
    assert outcome == SHOWN, f"{stop.name} ({stop.role}): {outcome}"
    grave = [v for v in found[(stop.name, width)] if v["impact"] in GRAVE]
    if grave:
        pytest.fail(
            f"axe-core on {stop.name} at {width} px:\n" + "\n".join(_described(v) for v in grave),
            pytrace=False,
        )


def _described(violation: dict[str, Any]) -> str:
    nodes = "\n".join(f"      {target}" for target in violation["nodes"][:8])
    more = len(violation["nodes"]) - 8
    return (
        f"  {violation['id']} ({violation['impact']}): {violation['help']}\n"
        f"    {violation['helpUrl']}\n{nodes}"
        + (f"\n      ... and {more} more" if more > 0 else "")
    )
