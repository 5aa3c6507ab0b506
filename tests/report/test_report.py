"""The HTML report of a run, rendered from real run folders of the bot on FakeBinance."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from sim.checkers.coverage import naked_windows, truth_records
from sim.report import render_report
from sim.report_svg import MAX_POINTS, reduce_minmax
from sim.trace import Trace

from .runs import CANCEL_MS, REPLAY, T0_MS, write_run

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ("clean", "naked", "refused", "idle")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    folders = {v: write_run(base / v, v) for v in VARIANTS}
    return {v: (folder, render_report(folder).read_text()) for v, folder in folders.items()}


def main_svg(html: str) -> str:
    """The first (whole-run) timeline of the first symbol."""
    return re.search(r'<svg class="timeline".*?</svg>', html, re.S).group(0)


def polyline_points(svg: str, cls: str) -> list[str]:
    found = re.findall(rf'<polyline class="{cls}" points="([^"]*)"', svg)
    return [p for points in found for p in points.split()]


def windows_of(folder: Path):
    lines = (folder / "trace.jsonl").read_text().splitlines()
    summary = json.loads((folder / "summary.json").read_text())
    return naked_windows(truth_records(lines), summary["end_ms"])


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_report_is_one_self_contained_file(runs, variant):
    folder, html = runs[variant]
    assert (folder / "report.html").is_file()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    replay = REPLAY.format(variant=variant)
    outside_replay = html.replace(replay, "")
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", outside_replay, re.I)
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", html, re.I)
    assert "@import" not in html and "url(http" not in html
    assert str(folder) not in html, "no absolute paths: the page must not depend on where"


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_header_names_the_run_and_how_to_replay_it(runs, variant):
    folder, html = runs[variant]
    summary = json.loads((folder / "summary.json").read_text())
    assert f"<pre><code>{REPLAY.format(variant=variant)}</code></pre>" in html
    assert f"<h1>soonusdt-{variant}</h1>" in html
    assert summary["trace_sha256"] in html and "matches trace.jsonl" in html
    # text from the run is escaped, never markup
    assert "&lt;replayed&gt; &amp; checked" in html and "<replayed>" not in html
    badge = "EXPECTATIONS NOT MET" if variant == "naked" else "EXPECTATIONS MET"
    assert f">{badge}</div>" in html


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_checker_has_a_row_with_its_status(runs, variant):
    folder, html = runs[variant]
    verdicts = json.loads((folder / "verdicts.json").read_text())
    rows = dict(re.findall(r'data-checker="([^"]+)">.*?<span class="status"[^>]*>(\w+)<', html))
    expected = {v["checker"]: v["status"].upper() for v in verdicts} | {"rate_budget": "PASS"}
    assert rows == expected
    for v in verdicts:
        assert f'id="verdict-{v["checker"]}"' in html  # its evidence section


@pytest.mark.parametrize("variant", ("clean", "naked", "refused"))
def test_the_timeline_draws_the_price_the_stops_and_the_position(runs, variant):
    _, html = runs[variant]
    svg = main_svg(html)
    assert len(polyline_points(svg, "price-mark")) >= 300  # one tape point a second, 300 s
    assert len(polyline_points(svg, "stop-protective")) > 0
    assert svg.count('class="stop-level"') >= 10  # the trailing stop's successive levels
    assert 'class="position"' in svg
    assert svg.count('class="fill"') == 2  # the entry and the exit
    assert "+60 s" in svg and "16:03:30" in svg  # seconds from the start and UTC clock


def test_an_idle_run_plots_the_price_and_is_never_naked(runs):
    _, html = runs["idle"]
    svg = main_svg(html)
    assert len(polyline_points(svg, "price-mark")) >= 300
    assert 'class="naked"' not in html and "Zoom on naked window" not in html
    assert "No position was held" in html
    assert 'class="stop-protective"' not in svg and 'class="position"' not in svg


def test_naked_windows_are_shaded_where_coverage_finds_them(runs):
    folder, html = runs["naked"]
    windows = windows_of(folder)
    assert [w.first for w in windows] == [True, False]
    assert windows[1].start_ms == CANCEL_MS
    svg = main_svg(html)
    assert svg.count('class="naked"') == len(windows)
    # the cancel's window has its zoomed plot, and its evidence row
    assert html.count("Zoom on naked window") == len(windows)
    assert "+100.000 s" in html and "naked position" in html
    assert "stop-lost" in html  # the bot's note that it noticed


def test_a_clean_run_shades_only_the_entry_window(runs):
    folder, html = runs["clean"]
    windows = windows_of(folder)
    assert [w.first for w in windows] == [True]
    assert main_svg(html).count('class="naked"') == 1
    assert "Naked only while placing the first stop" in html
    assert "-2021" not in html and 'class="fault"' not in html


def test_faults_and_error_codes_are_labelled(runs):
    _, html = runs["refused"]
    svg = main_svg(html)
    assert 'class="fault"' in svg and ">order_immediate_trigger</text>" in svg
    assert re.search(r'class="error-label"[^>]*>-2021', svg)
    log = html[html.index('id="log"') :]
    assert "fault starts" in log and "fault heals" in log
    assert "code -2021" in log and "bot ClosePosition" in log
    assert "+110.000 s" in log  # the fault's start, in run time


def test_rendering_is_deterministic_across_renders_places_and_processes(runs, tmp_path):
    folder, html = runs["refused"]
    again = render_report(folder).read_bytes()
    assert again == html.encode()
    moved = tmp_path / "elsewhere"
    shutil.copytree(folder, moved)
    (moved / "report.html").unlink()
    assert render_report(moved).read_bytes() == again
    for hash_seed in ("1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        subprocess.run(
            [sys.executable, "-m", "sim.report", str(moved)], check=True, cwd=ROOT, env=env,
            capture_output=True,
        )  # fmt: skip
        assert (moved / "report.html").read_bytes() == again


def test_hours_of_prices_are_reduced_keeping_the_extremes(tmp_path):
    t_ms = [T0_MS]
    trace = Trace(lambda: t_ms[0] * 1000)
    for i in range(72_000):  # two hours at 100 ms
        t_ms[0] = T0_MS + i * 100
        price = "3.0000" if i == 50_001 else "0.5000" if i == 20_003 else f"2.{i % 977:04d}"
        trace.record("venue.price", symbol="BTCUSDT", mark=price, last=price)
    folder = tmp_path / "long"
    trace.write_jsonl(folder / "trace.jsonl")
    html = render_report(folder).read_text()
    points = polyline_points(main_svg(html), "price-mark")
    assert 0 < len(points) <= 2 * MAX_POINTS  # a step line: two corners per point
    assert ">+3600 s<" in html or ">+1800 s<" in html
    series = [(T0_MS + i * 100, Decimal(f"2.{i:04d}")) for i in range(10_000)]
    series[7_777] = (series[7_777][0], Decimal("9"))
    reduced = reduce_minmax(series, T0_MS, T0_MS + 1_000_000)
    assert len(reduced) <= MAX_POINTS and series[7_777] in reduced
    assert reduced == sorted(reduced) and reduced == reduce_minmax(series, T0_MS, T0_MS + 1_000_000)


def test_a_folder_with_only_a_trace_still_renders(runs, tmp_path):
    folder, _ = runs["refused"]
    partial = tmp_path / "crashed-run"
    partial.mkdir()
    shutil.copy(folder / "trace.jsonl", partial / "trace.jsonl")
    html = render_report(partial).read_text()
    assert "EXPECTATIONS UNKNOWN" in html and "no verdicts recorded" in html
    assert len(polyline_points(main_svg(html), "price-mark")) >= 300
    assert ">order_immediate_trigger</text>" in html


def test_a_folder_without_a_trace_is_an_error_that_says_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"trace\.jsonl.*summary\.json"):
        render_report(tmp_path)
