"""Web app in a real browser (Debian's Chromium via Playwright) on the bundled corpus:
page ready (examples visible) after load, and first visible answer text after submit.
Writes the "## Browser" section of docs/benchmarks.md."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from docs_section import ROOT, write_section

SECTION = "## Browser (Chromium)"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
LOADS = 10
QUESTIONS = [
    "Who handles customs compliance?",
    "Who negotiates contracts with suppliers?",
    "What degree do logistics managers usually have?",
    "Who manages a larger budget?",
    "Does a logistics manager report to the operations manager?",
    "What does a procurement manager do?",
    "Who deals with transportation delays?",
    "How do I bake sourdough bread?",
]
# Stamps the Enter keydown (before Gradio sees it) and the first frame painted after the
# answer bubble first holds text.
PROBE = """() => {
  window.__rg = {t0: null, first: null};
  const box = document.querySelector('#rg-question textarea');
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { window.__rg = {t0: performance.now(), first: null}; }
  }, true);
  const chat = document.querySelector('#rg-chat');
  new MutationObserver(() => {
    const r = window.__rg;
    if (r.t0 === null || r.first !== null) return;
    const bots = chat.querySelectorAll('.bot-row');
    const last = bots[bots.length - 1];
    if (last && last.innerText.trim()) {
      r.first = -1;
      requestAnimationFrame(() => { r.first = performance.now(); });
    }
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


# Gradio hides the chat's status trackers once the answer's event has finished.
IDLE = """() => [...document.querySelectorAll('#rg-chat [data-testid="status-tracker"]')]
  .every((t) => t.classList.contains('hide'))"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    from playwright.sync_api import sync_playwright

    from roleguide import RoleGuide
    from roleguide.app.web.ui import serve

    with tempfile.TemporaryDirectory() as home:
        guide = RoleGuide(corpus_dir=ROOT / "corpus", home=Path(home))
        app, url = serve(guide, "127.0.0.1", free_port(), block=False)
        try:
            with sync_playwright() as manager:
                browser = manager.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                loads = []
                for _ in range(LOADS):  # a fresh context each time: nothing cached
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    began = time.perf_counter()
                    page.goto(url)
                    page.locator("#rg-chat .examples button").first.wait_for(state="visible")
                    loads.append((time.perf_counter() - began) * 1000)
                    context.close()
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url)
                page.locator("#rg-question textarea").wait_for()
                page.evaluate(PROBE)
                firsts, dones = [], []
                for question in QUESTIONS * 2:
                    page.locator("#rg-clear").click()
                    page.wait_for_function("!document.querySelector('#rg-chat .bot-row')")
                    box = page.locator("#rg-question textarea")
                    box.fill(question)
                    box.press("Enter")
                    page.wait_for_function("window.__rg.first > 0", timeout=30_000)
                    firsts.append(page.evaluate("window.__rg.first - window.__rg.t0"))
                    page.wait_for_function(IDLE, timeout=30_000)  # the answer event is over
                    dones.append(page.evaluate("performance.now() - window.__rg.t0"))
                browser.close()
            fresh = guide.with_retriever("hybrid")  # same index, an empty query-vector cache
            inproc = []
            for question in QUESTIONS:
                began = time.perf_counter()
                fresh.ask(question, record=False)
                inproc.append((time.perf_counter() - began) * 1000)
        finally:
            app.close()
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    shared = (
        "The machine was shared with other jobs, so these are upper bounds"
        if load > cpus
        else "Nothing else ran on the machine"
    )
    cold, warm = firsts[: len(QUESTIONS)], firsts[len(QUESTIONS) :]
    lines = [
        SECTION,
        "",
        "Chromium (Debian) through Playwright at 1280×900, the app in the benchmark's own "
        f"process on the bundled corpus. {shared} ({cpus} CPUs, load average {load:.1f} at "
        "the end of the run); the in-process row, taken in the same run, shows how much of "
        "the time is the browser and Gradio's queue rather than the search. "
        "`python benchmarks/bench_browser.py`.",
        "",
        "| what | median | worst | target |",
        "| --- | --- | --- | --- |",
        f"| page ready: load → example questions visible (fresh context, {LOADS} loads) "
        f"| {statistics.median(loads):.0f} ms | {max(loads):.0f} ms | ≤ 1,500 ms |",
        f"| first visible answer text after Enter, {len(cold)} new questions "
        f"| {statistics.median(cold):.0f} ms | {max(cold):.0f} ms | ≤ 150 ms |",
        f"| the same questions again (query vectors cached) "
        f"| {statistics.median(warm):.0f} ms | {max(warm):.0f} ms | ≤ 150 ms |",
        f"| for comparison: `RoleGuide.ask` in process, the new questions (model + search) "
        f"| {statistics.median(inproc):.0f} ms | {max(inproc):.0f} ms | |",
        f"| answer event finished in the browser (all {len(dones)} runs; suggestions follow "
        f"as their own event) | {statistics.median(dones):.0f} ms | {max(dones):.0f} ms | |",
        "",
    ]
    write_section(SECTION, lines)


if __name__ == "__main__":
    sys.exit(main())
