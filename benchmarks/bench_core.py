"""Core benchmark: ingest time, `roleguide ask` cold start and warm `ask` latency on the
bundled corpus, the ONNX question path side by side with the sentence-transformers one.

Writes docs/benchmarks.md (its Core section and rows of the Targets section). Runs alone:
`python benchmarks/bench_core.py`. Numbers vary with the machine: compare figures
measured in the same run, not across runs.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from docs_section import ROOT, record_targets, write_section

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


def cold_ask(home: Path, runs: int = 3) -> float:
    """Median wall time of `roleguide ask` as a new process on a built index."""
    command = [
        str(Path(sys.executable).parent / "roleguide"),
        "ask",
        "Who handles customs compliance?",
    ]
    command += ["--home", str(home), "--corpus", str(CORPUS)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    times = []
    for _ in range(runs):
        seconds, _ = timed(
            lambda: subprocess.run(command, capture_output=True, check=True, env=env)
        )
        times.append(seconds)
    return statistics.median(times)


def warm_latencies(guide, qs: list[str]) -> tuple[list[float], list[float]]:
    """``ask`` latency over ``qs`` (warm index, cold question cache) and query embedding alone."""
    for q in qs[:5]:
        guide.ask(q, record=False)  # warm caches of the index, not of these questions
    guide._query_vectors.clear()
    latencies = []
    for q in qs:
        seconds, _ = timed(lambda q=q: guide.ask(q, record=False))
        latencies.append(seconds * 1000)
    embed_ms = []
    for q in qs:
        seconds, _ = timed(lambda q=q: guide.index.embeddings.embed_query(q + " (uncached)"))
        embed_ms.append(seconds * 1000)
    return latencies, embed_ms


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

    import_s, _ = timed(
        lambda: __import__("roleguide.store.embeddings").store.embeddings.load_embeddings()
    )
    from roleguide import RoleGuide
    from roleguide.store.embeddings import load_embeddings
    from roleguide.store.onnx_query import EXPORT_DIR

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build_s, guide = timed(lambda: RoleGuide(corpus_dir=CORPUS, home=home))
        report = guide.last_ingest
        _, again = timed(lambda: guide.ingest())
        open_s, guide = timed(lambda: RoleGuide(corpus_dir=CORPUS, home=home))
        old_home = Path(tmp) / "home-without-export"  # the sentence-transformers path
        shutil.copytree(home, old_home, ignore=shutil.ignore_patterns(EXPORT_DIR))
        cold_new, cold_old = cold_ask(home), cold_ask(old_home)
        qs = questions(50)
        latencies, embed_ms = warm_latencies(guide, qs)
        old = RoleGuide(corpus_dir=CORPUS, home=home, embeddings=load_embeddings("float32"))
        old_latencies, old_embed_ms = warm_latencies(old, qs)

    def p50_p95(values: list[float]) -> str:
        return f"{statistics.median(values):.1f} ms / {percentile(values, 0.95):.1f} ms"

    rows = [
        ("`roleguide --help` (median of 3)", f"{statistics.median(help_runs):.2f} s", ""),
        ("load the sentence-transformers model (imports + weights)", f"{import_s:.1f} s", ""),
        (
            f"first ingest: {report.chunks} chunks, {report.sentences_embedded} sentences",
            f"{report.seconds:.2f} s (RoleGuide() incl. ingest {build_s:.2f} s; of which "
            f"making and checking the ONNX question model {report.query_model_seconds:.2f} s)",
            "",
        ),
        (
            "re-ingest, nothing changed",
            f"{again.seconds:.2f} s (embedded {again.sentences_embedded})",
            "",
        ),
        ("`RoleGuide()` on a built index (nothing loaded yet)", f"{open_s * 1000:.0f} ms", ""),
        (
            "`roleguide ask` one-shot, new process (median of 3)",
            f"{cold_new:.2f} s",
            f"{cold_old:.2f} s",
        ),
        (
            f"`ask` warm, {len(latencies)} questions: p50 / p95",
            p50_p95(latencies),
            p50_p95(old_latencies),
        ),
        (
            "of which: query embedding p50",
            f"{statistics.median(embed_ms):.1f} ms",
            f"{statistics.median(old_embed_ms):.1f} ms",
        ),
    ]
    lines = [
        "## Core (bundled corpus)",
        "",
        "Questions embedded by the ONNX export (onnxruntime, the default once `ingest` made it) "
        "and, in the same run, by sentence-transformers (the path before issue 16, and the "
        "fallback when the export is missing).",
        "",
        "| what | ONNX question path | sentence-transformers question path |",
        "| --- | --- | --- |",
        *[f"| {a} | {b} | {c or '—'} |" for a, b, c in rows],
        "",
    ]
    write_section("## Core", lines)
    record_targets(
        {
            "ask_cold_s": cold_new,
            "embed_p50_ms": statistics.median(embed_ms),
            "ask_p50_ms": statistics.median(latencies),
            "ask_p95_ms": percentile(latencies, 0.95),
        },
        note=(
            f"bench_core; same run, sentence-transformers path: cold ask {cold_old:.1f} s, "
            f"embedding {statistics.median(old_embed_ms):.1f} ms, ask p50 "
            f"{statistics.median(old_latencies):.1f} ms"
        ),
    )


if __name__ == "__main__":
    main()
