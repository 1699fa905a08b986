"""The report in a real browser: headless Chromium loads it without a console message, finds the charts in the
DOM, and renders a screenshot with real content."""
from __future__ import annotations

import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from hil.process import run_tool
from hil.results.html_report import write_report
from hil.results.merge import merge_documents
from tests.results.sample_documents import lesson_document

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
BROWSER_TIMEOUT_S = 90.0
WINDOW_WIDTH_PX, WINDOW_HEIGHT_PX = 1200, 2000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chromium prints page console messages (errors included) as "INFO:CONSOLE..." lines with --enable-logging.
CONSOLE_LINE = re.compile(r"CONSOLE|Uncaught", re.IGNORECASE)


@pytest.fixture(scope="module")
def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium on PATH (apt-get install chromium): the browser checks of the report cannot run")


def headless(browser: str, profile: Path, *args: str):
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return run_tool(argv, timeout_s=BROWSER_TIMEOUT_S)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE_LINE.search(line)]


def png_size_and_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG (standard library only)."""
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    offset = len(PNG_SIGNATURE)
    width = height = 0
    compressed = b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            compressed += body
        offset += 12 + length
    return width, height, zlib.decompress(compressed)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    merged = merge_documents([
        ("a.json", lesson_document(host="runner-a", bench="benches/lab.yaml")),
        ("b.json", lesson_document(host="runner-b", bench="sim", started_at="2026-11-24T09:01:00+0000"))])
    write_report(merged, path)
    return path


def test_console_check_catches_a_page_error(browser, tmp_path):
    """The console check itself works: a page with a failing script is caught."""
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>undefinedFunction()</script></body></html>")
    result = headless(browser, tmp_path / "profile", "--dump-dom", broken.as_uri())
    assert any("Uncaught" in line for line in console_lines(result.stderr))


def test_report_loads_with_its_charts_and_no_console_message(browser, report_file, tmp_path):
    result = headless(browser, tmp_path / "profile", "--dump-dom", report_file.as_uri())
    assert console_lines(result.stderr) == []
    dom = result.stdout
    assert dom.count('<svg class="chart"') == 8
    assert len(re.findall(r'<rect class="bar"', dom)) == 16
    assert "<script" not in dom
    assert "Bubble sort of 1000 reversed ints" in dom


def test_report_renders_a_real_screenshot(browser, report_file, tmp_path):
    screenshot = tmp_path / "report.png"
    result = headless(browser, tmp_path / "profile", f"--screenshot={screenshot}",
                      f"--window-size={WINDOW_WIDTH_PX},{WINDOW_HEIGHT_PX}", report_file.as_uri())
    assert console_lines(result.stderr) == []
    width, height, pixels = png_size_and_pixels(screenshot.read_bytes())
    assert (width, height) == (WINDOW_WIDTH_PX, WINDOW_HEIGHT_PX)
    # A blank or single-colour page has a handful of distinct byte values; text, badges and bars have many.
    assert len(set(pixels)) > 64


# A laptop's first screen: the scorecard must answer "which claims hold, by how much" without scrolling. A report
# merged from two benches has a column per bench: judged on a desktop's first screen.
LAPTOP_SCREEN_PX = (1280, 800)
DESKTOP_SCREEN_PX = (1600, 1000)
# The results of `pytest -m hil` on the simulated bench (evidence left out), as the plugin wrote them.
RECORDED_SIM_RUN = Path(__file__).parent / "data" / "sim_lesson_results.json"
LESSON_SCENARIOS = 11
# Appended to a copy of the report (the report itself has no script): writes each scorecard row's box, and the
# viewport, into the DOM that --dump-dom prints.
MEASURE_SCRIPT = """<script>
const boxes = [...document.querySelectorAll('tr.score')].map(row => {
  const box = row.getBoundingClientRect();
  return {claim: row.dataset.claim, top: box.top, bottom: box.bottom, right: box.right,
          verdicts: [...row.querySelectorAll('[data-verdict]')].map(cell => cell.dataset.verdict),
          figures: [...row.querySelectorAll('td.decided')].map(cell => cell.innerText)};
});
const firstCard = document.querySelector('article.claim-card');
document.body.setAttribute('data-measured', JSON.stringify({
  viewportHeight: window.innerHeight, viewportWidth: window.innerWidth, rows: boxes,
  firstCardTop: firstCard ? firstCard.getBoundingClientRect().top : null}));
</script>"""


def measured_layout(browser, report: Path, tmp_path: Path, screen_px: tuple[int, int]) -> dict:
    import html
    import json
    probe = tmp_path / "measure.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", MEASURE_SCRIPT + "</body>"),
                     encoding="utf-8")
    result = headless(browser, tmp_path / "profile", "--dump-dom", f"--window-size={screen_px[0]},{screen_px[1]}",
                      probe.as_uri())
    found = re.search(r'data-measured="([^"]*)"', result.stdout)
    assert found, "the measuring script did not run: " + result.stderr[-500:]
    return json.loads(html.unescape(found.group(1)))


def recorded_sim_run() -> dict:
    import json
    return json.loads(RECORDED_SIM_RUN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", ["simulated", "merged"])
def test_the_first_screen_is_the_scorecard_with_every_verdict_and_its_figure(browser, tmp_path, kind):
    from tests.results.sample_documents import lesson_run
    if kind == "simulated":
        document, screen_px, benches = recorded_sim_run(), LAPTOP_SCREEN_PX, 1
    else:
        document = merge_documents([("lab.json", lesson_run(simulated=False, host="lab-pi")),
                                    ("sim.json", recorded_sim_run())])
        screen_px, benches = DESKTOP_SCREEN_PX, 2
    report = tmp_path / "report.html"
    write_report(document, report)
    layout = measured_layout(browser, report, tmp_path, screen_px)
    # Headless Chromium keeps part of the window for its own frame: judge against the viewport it reports.
    assert 0 < layout["viewportHeight"] <= screen_px[1]
    rows = layout["rows"]
    assert len(rows) == LESSON_SCENARIOS
    for row in rows:
        assert 0 <= row["top"] and row["bottom"] <= layout["viewportHeight"], f"{row['claim']} is below the fold"
        assert row["right"] <= layout["viewportWidth"], f"{row['claim']} is cut off on the right"
        assert 1 <= len(row["verdicts"]) <= benches   # a claim one bench did not run shows "not run"
        assert set(row["verdicts"]) <= {"holds", "fails", "not comparable on this bench", "error"}
        assert all(row["figures"]), f"{row['claim']} shows no deciding figure"
    by_claim = {row["claim"]: row for row in rows}
    from hil.results.verdict import deciding_text
    recorded = {c["scenario"]: c for c in recorded_sim_run()["claims"]}
    assert deciding_text(recorded["deploy-time"]).startswith("MicroPython edit to running code: 0.")
    assert deciding_text(recorded["deploy-time"]) in by_claim["deploy-time"]["figures"][-1]
    assert "wasm-host clock" in by_claim["compute-throughput"]["figures"][-1]
    if kind == "merged":
        assert by_claim["compute-throughput"]["verdicts"] == ["holds", "not comparable on this bench"]
        assert "107.2× (needs ≥ 20×; lesson: 107×)" in by_claim["compute-throughput"]["figures"][0]
    # The claim cards follow the scorecard; the scorecard is not pushed down by them.
    assert layout["firstCardTop"] > max(row["bottom"] for row in rows)
