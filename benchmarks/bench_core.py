"""Core benchmark: ingest time and warm `ask` latency on the bundled corpus.

Writes docs/benchmarks.md. Run with `make bench` (numbers vary with the machine: compare
figures measured in the same run, not across runs).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from docs_section import ROOT, write_section

CORPUS = ROOT / "corpus"


def questions(limit: int = 50) -> list[str]:
    data = yaml.safe_load((ROOT / "evals" / "questions.yaml").read_text("utf-8"))
    found = []
    for case in data["cases"]:
        for turn in case.get("turns", [case]):
            if "question" in turn:
                found.append(turn["question"])
    return found[:limit]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn) -> tuple[float, object]:
    began = time.perf_counter()
    result = fn()
    return time.perf_counter() - began, result


def main() -> None:
    help_runs = []
    for _ in range(3):
        seconds, _ = timed(
            lambda: subprocess.run(
                [str(Path(sys.executable).parent / "roleguide"), "--help"],
                capture_output=True,
                check=True,
            )
        )
        help_runs.append(seconds)

    import_s, _ = timed(lambda: __import__("roleguide.embeddings").embeddings.load_embeddings())
    from roleguide import RoleGuide

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build_s, guide = timed(lambda: RoleGuide(corpus_dir=CORPUS, home=home))
        report = guide.last_ingest
        _, again = timed(lambda: guide.ingest())
        open_s, guide = timed(lambda: RoleGuide(corpus_dir=CORPUS, home=home))
        qs = questions(50)
        for q in qs[:5]:
            guide.ask(q)  # warm caches of the index, not of these questions
        guide._query_vectors.clear()
        latencies = []
        for q in qs:
            seconds, _ = timed(lambda q=q: guide.ask(q))
            latencies.append(seconds * 1000)
        embed_ms = []
        for q in qs:
            seconds, _ = timed(lambda q=q: guide.index.embeddings.embed_query(q + " (uncached)"))
            embed_ms.append(seconds * 1000)

    rows = [
        ("`roleguide --help` (median of 3)", f"{statistics.median(help_runs):.2f} s"),
        ("load the embedding model (imports + weights)", f"{import_s:.1f} s"),
        (
            f"first ingest: {report.chunks} chunks, {report.sentences_embedded} sentences",
            f"{report.seconds:.2f} s (RoleGuide() incl. ingest {build_s:.2f} s)",
        ),
        (
            "re-ingest, nothing changed",
            f"{again.seconds:.2f} s (embedded {again.sentences_embedded})",
        ),
        ("`RoleGuide()` on a built index (model already loaded)", f"{open_s * 1000:.0f} ms"),
        (
            f"`ask` warm, {len(latencies)} questions: p50 / p95",
            f"{statistics.median(latencies):.1f} ms / {percentile(latencies, 0.95):.1f} ms",
        ),
        ("of which: query embedding p50", f"{statistics.median(embed_ms):.1f} ms"),
    ]
    lines = [
        "## Core (bundled corpus)",
        "",
        "| what | result |",
        "| --- | --- |",
        *[f"| {a} | {b} |" for a, b in rows],
        "",
    ]
    write_section("## Core", lines)


if __name__ == "__main__":
    main()
