"""Write one section of docs/benchmarks.md in place, so each benchmark can run alone."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks.md"
ORDER = ["## Core", "## Web app", "## Ingest throughput", "## Scale"]


def machine() -> str:
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )


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
