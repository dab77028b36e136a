"""Write one section of docs/benchmarks.md in place, so each benchmark can run alone."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks.md"
ORDER = ["## Targets", "## Core", "## Web app", "## Ingest throughput", "## Scale"]


def cpu_model() -> str:
    """The CPU's model name (figures from two CPUs are not like for like), else the arch."""
    try:
        for line in Path("/proc/cpuinfo").read_text("utf-8").splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({platform.machine()})"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def _sections(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in ("\n" + text).split("\n## ")[1:]:
        title = part.split("\n", 1)[0]
        found["## " + title] = "## " + part.rstrip()
    return found


def write_section(heading: str, lines: list[str]) -> None:
    """Replace the section whose heading starts with ``heading`` (or add it), keep the rest,
    and print the new section."""
    text = OUT.read_text("utf-8") if OUT.exists() else ""
    sections = {k: v for k, v in _sections(text).items() if not k.startswith(heading)}
    body = "\n".join(lines).rstrip()
    stamp = f"_Measured {time.strftime('%Y-%m-%d')} on {machine()}._"
    sections[body.split("\n", 1)[0]] = body.replace("\n", f"\n\n{stamp}\n", 1)

    def rank(title: str) -> int:
        return next((i for i, h in enumerate(ORDER) if title.startswith(h)), len(ORDER))

    ordered = sorted(sections, key=rank)
    head = (
        "# Benchmarks\n\n`make bench` and `make bench-scale` write this file; each section "
        "says when it was measured."
    )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(
        head + "\n\n" + "\n\n".join(sections[t] for t in ordered) + "\n", encoding="utf-8"
    )
    print(body)


RESULTS = ROOT / "docs" / "bench-results.json"
TARGETS_SECTION = "## Targets"
# (key, what, before the ONNX question path and the HTTP API (issue 16), target, unit, goal)
TARGETS = [
    ("ask_cold_s", "`roleguide ask` one-shot, new process, built index", "10.7 s", 2.0, "s"),
    ("serve_ready_s", "`roleguide serve` → page ready", "13–15 s", 5.0, "s"),
    ("embed_p50_ms", "query embedding p50", "15–18 ms", 6.0, "ms"),
    ("ask_p50_ms", "`ask` p50 warm, bundled corpus", "~23 ms", 10.0, "ms"),
    ("ask_p95_ms", "`ask` p95 warm, bundled corpus", "~32 ms", 20.0, "ms"),
    ("ask_100k_p50_ms", "`ask` p50 at 100k chunks", "35 ms", 20.0, "ms"),
    ("http_over_inprocess_ms", "`POST /api/ask` p50 over HTTP minus in-process p50",
     "84–157 ms total (gradio_client)", 5.0, "ms"),
    ("rss_100k_mib", "serve RSS at 100k chunks", "1.7 GiB", 1229.0, "MiB"),
    ("ingest_ratio_f32", "ingest vs bare model, float32", "57%", 0.80, "ratio"),
    ("ingest_ratio_bf16", "ingest vs bare model, bfloat16", "52%", 0.80, "ratio"),
]  # fmt: skip


def _show(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value:.0%}"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.0f} {unit}" if unit == "MiB" else f"{value:.1f} {unit}"


def record_targets(values: dict[str, float], note: str = "") -> None:
    """Store this run's figures for the issue-16 targets and rewrite the Targets section
    (every benchmark adds its own rows, so each can run alone)."""
    import json

    saved = json.loads(RESULTS.read_text("utf-8")) if RESULTS.exists() else {}
    today = time.strftime("%Y-%m-%d")
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end"
    note = f"{note}; {load}" if note else load
    here = machine()
    for key, value in values.items():
        saved[key] = {"value": value, "measured": today, "note": note, "machine": here}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    lines = [
        TARGETS_SECTION + " (issue 16: the ONNX question path, the HTTP API, ingest)",
        "",
        "| what | before | now | target | met | measured |",
        "| --- | ---: | ---: | ---: | :---: | --- |",
    ]
    for key, what, before, target, unit in TARGETS:
        got = saved.get(key)
        bound = ("≥ " if unit == "ratio" else "≤ ") + _show(target, unit)
        if got is None:
            lines.append(f"| {what} | {before} | not measured yet | {bound} | — | — |")
            continue
        value = got["value"]
        met = value >= target if unit == "ratio" else value <= target
        where = f" on {got['machine']}" if got.get("machine") else ""
        note = f"{got['measured']}{where}; {got['note']}" if got.get("note") else got["measured"]
        lines.append(
            f"| {what} | {before} | {_show(value, unit)} | {bound} | {'yes' if met else 'no'} "
            f"| {note} |"
        )
    lines += [
        "",
        "*Before* is the issue's figure, measured before the change on a quiet machine; the "
        "benchmark sections below also measure the old path (sentence-transformers for "
        "questions, `gradio_client` over HTTP) side by side with the new one in the same run. "
        "A load average above the CPU count means other work shared the machine: absolute "
        "times are then inflated, and only the same-run comparisons are meaningful.",
        "",
    ]
    write_section(TARGETS_SECTION, lines)
