"""The HTML report as a person sees it: opened in headless Chromium, offline, without errors, printed, photographed.

Needs Debian's ``chromium`` (``/usr/bin/chromium``, installed by ``.ci/run`` where missing) and the ``playwright``
package of the dev extra, which drives it; Playwright's own browser downloads are never used. Screenshots and the
printed PDF go to ``test-artifacts/`` (ignored by git).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

from community_policing.demo import Demo, build_demo
from community_policing.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("COMMUNITY_POLICING_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n", encoding="utf-8")
    return ARTIFACTS


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install -y chromium), as .ci/run does"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def demo(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return build_demo(tmp_path_factory.mktemp("demo"), registry=registry, officers=48, days=42, seed=2023)


class Visit:
    """A page opened on the report, with every console message, page error and request it made."""

    def __init__(self, browser: Browser, report: Path, *, width: int = 1280) -> None:
        # Offline: any request that leaves the machine is refused (and recorded), as on a laptop in the field.
        self.context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
        self.page: Page = self.context.new_page()
        self.console: list[ConsoleMessage] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda message: self.console.append(message))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(_url(request)))
        self.page.goto(report.as_uri(), wait_until="load")

    def close(self) -> None:
        self.context.close()


def _url(request: Request) -> str:
    return request.url


def test_the_report_renders_offline_without_errors_or_requests(browser: Browser, demo: Demo, artifacts: Path) -> None:
    visit = Visit(browser, demo.report)
    try:
        page = visit.page
        assert [m.text for m in visit.console if m.type in ("error", "warning")] == []
        assert visit.errors == []
        assert visit.requests == [demo.report.as_uri()]
        assert page.title().startswith("Polres Blitar")
        assert page.get_by_role("heading", level=1).inner_text() == "Polres Blitar: Tiada Hari Tanpa Teman Baru"
        # Every chart is drawn with room on the page, and named for assistive technology.
        charts = page.locator("svg[role=img]")
        assert charts.count() == 48 + 3
        for index in (0, 1, 2, charts.count() - 1):
            chart = charts.nth(index)
            chart.scroll_into_view_if_needed()
            box = chart.bounding_box()
            assert box is not None
            assert box["width"] > 100
            assert box["height"] > 50
            assert page.get_by_role("img", name=chart.locator(":scope > title").text_content() or "").count() >= 1
        # A calendar square has the size the stylesheet gives it, and the colour of its status.
        square = page.locator("svg.calendar rect").first
        box = square.bounding_box()
        assert box is not None
        assert (round(box["width"]), round(box["height"])) == (11, 11)
        fill = square.evaluate("element => getComputedStyle(element).fill")
        assert fill not in ("", "none", "rgb(0, 0, 0)")
        page.screenshot(path=str(artifacts / "report-top.png"))
        page.locator("#calendars").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "report-calendars.png"))
        assert (artifacts / "report-top.png").stat().st_size > 10_000
    finally:
        visit.close()


def test_the_tables_behind_the_charts_open_and_read_as_tables(browser: Browser, demo: Demo) -> None:
    visit = Visit(browser, demo.report)
    try:
        page = visit.page
        table = page.locator("#polsek-compliance")
        assert not table.is_visible()
        page.locator("#polseks summary").click()
        assert table.is_visible()
        assert page.get_by_role("table", name="Compliance per Polsek, week by week: the numbers").is_visible()
        header = table.locator("th").all_inner_texts()
        assert header[:8] == [
            "Polsek",
            "officers",
            "met",
            "missed",
            "pending",
            "excused",
            "compliance",
            "week of 08 Jun",
        ]
        # The coverage table is always visible, with its stale villages marked.
        stale = page.locator("#village-coverage tr.stale")
        assert stale.count() == len(demo.overview.stale_villages())
    finally:
        visit.close()


def test_the_report_prints(browser: Browser, demo: Demo, artifacts: Path) -> None:
    visit = Visit(browser, demo.report)
    try:
        page = visit.page
        page.emulate_media(media="print")
        # Printing hides the "show the table" toggles, not the charts.
        assert not page.locator("#polseks summary").is_visible()
        assert page.locator("svg[role=img]").first.is_visible()
        pdf = artifacts / "report.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
        assert pdf.read_bytes().startswith(b"%PDF")
        assert pdf.stat().st_size > 50_000
    finally:
        visit.close()


def test_a_narrow_screen_scrolls_the_wide_charts_instead_of_cutting_them(browser: Browser, demo: Demo) -> None:
    visit = Visit(browser, demo.report, width=420)
    try:
        page = visit.page
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        figure = page.locator("#teams figure.chart")
        assert figure.evaluate("element => element.scrollWidth > element.clientWidth")
    finally:
        visit.close()


CONTRAST = """
() => {
  const luminance = (colour) => {
    const [r, g, b] = colour.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratios = [];
  for (const text of document.querySelectorAll("svg.grid text.value")) {
    const cell = text.previousElementSibling;
    if (!cell || cell.tagName !== "rect") continue;
    const [a, b] = [luminance(getComputedStyle(text).fill), luminance(getComputedStyle(cell).fill)];
    ratios.push((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
  }
  return ratios;
}
"""


def test_the_percentages_written_in_the_grid_cells_are_legible(browser: Browser, demo: Demo) -> None:
    visit = Visit(browser, demo.report)
    try:
        ratios = visit.page.evaluate(CONTRAST)
        assert len(ratios) == sum(len(r.weekly) for r in (*demo.overview.polseks, *demo.overview.teams)) + len(
            demo.overview.weeks
        )
        # WCAG AA asks 4.5:1 for small text.
        assert min(ratios) >= 4.5
    finally:
        visit.close()
