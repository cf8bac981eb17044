"""No page of the journeys (motcua.web.journeys) is wider than a 360 px phone: wide content
(tables, codes, long words) scrolls or wraps inside its box, the page itself never scrolls
sideways. One walk for the module; a test per page, naming what sticks out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from motcua.web.journeys import SHOWN, STOPS, Stop, walk
from motcua.web.tests.journey_site import demo_site

# The walk's data is the module's (see journey_site); each test only reads what it found, in a
# transaction of its own that the marker asks pytest-django to set the test database up for.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = 360
# The page's width, and the elements reaching past the window's right edge (the outermost
# ones: a child of an element already listed is left out).
MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const e of document.body.querySelectorAll("*")) {
    if (e.getBoundingClientRect().right > width + 1 && !wide.some(w => w.contains(e))) {
      wide.push(e);
    }
  }
  const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + [...e.classList].map(c => "." + c).join("");
  return {
    scrollWidth: document.documentElement.scrollWidth,
    wide: wide.slice(0, 8).map(e => name(e) + " (" + Math.round(e.getBoundingClientRect().right) + " px)"),
  };
}"""

Measured = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def measured(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[tuple[str, int], str], Measured]]:
    """Walk the journeys once at the phone's width, measuring each page."""
    sizes: Measured = {}

    def visit(page: Page, stop: Stop, width: int) -> None:
        sizes[stop.name] = page.evaluate(MEASURE)

    with django_db_blocker.unblock(), demo_site() as (url, cast):
        outcomes = walk(
            base_url=url,
            cast=cast,
            visit=visit,
            widths=(PHONE,),
            scratch=tmp_path_factory.mktemp("layout"),
        )
        yield outcomes, sizes


@pytest.mark.parametrize("stop", STOPS, ids=lambda s: f"{s.number:02d}-{s.name}")
def test_no_page_is_wider_than_a_phone(
    measured: tuple[dict[tuple[str, int], str], Measured], stop: Stop
) -> None:
    outcomes, sizes = measured
    outcome = outcomes.get((stop.name, PHONE), "not reached: the journey ended before it")
    if outcome.startswith("skipped"):
        pytest.skip(f"{stop.name}: {outcome}")
    assert outcome == SHOWN, f"{stop.name} ({stop.role}): {outcome}"
    size = sizes[stop.name]
    if size["scrollWidth"] > PHONE:
        pytest.fail(
            f"{stop.name} is {size['scrollWidth']} px wide at {PHONE} px; sticking out: "
            + ", ".join(size["wide"]),
            pytrace=False,
        )
