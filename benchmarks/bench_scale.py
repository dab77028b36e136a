"""Scale benchmark: ingest throughput against the bare model, `ask` latency and memory at
the bundled corpus, 10k and 100k chunks, in-process and over the Gradio HTTP API, with
the tutorial pipeline as the reference row. Appends a section to docs/benchmarks.md.

    python benchmarks/bench_scale.py            # all sizes (the 100k build takes a while)
    python benchmarks/bench_scale.py --sizes corpus 10k
    python benchmarks/bench_scale.py --sizes 100k   # the issue-16 rows: ask p50 and RSS

The first 100k build takes most of an hour on two cores; later runs reuse its index
(benchmarks/.cache/home-100k) and take minutes.

Synthetic corpora come from roleguide.evaluation.synthetic. The 10k corpus has only
fresh sentences (it measures throughput); the 100k corpus draws each role's sentences
from a pool of 400, so its paragraphs are unique but sentences repeat across articles
and the embedding cache spares most of the model time. Indexes are kept under
benchmarks/.cache/ and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from docs_section import ROOT, record_targets, write_section

CACHE = ROOT / "benchmarks" / ".cache"
CHART = ROOT / "docs" / "ask-latency.png"
SECTION = "## Scale"
SIZES = {"corpus": None, "10k": 10_000, "100k": 100_000}
POOL = {"10k": None, "100k": 400}
QUESTIONS = 200


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def corpus_for(size: str) -> Path:
    if size == "corpus":
        return ROOT / "corpus"
    from roleguide.evaluation.synthetic import write_corpus

    path = CACHE / f"corpus-{size}"
    if not path.is_dir():
        write_corpus(path, SIZES[size], seed=11, pool=POOL[size])
    return path


def questions_for(size: str, n: int = QUESTIONS) -> list[str]:
    if size == "corpus":
        import yaml

        data = yaml.safe_load((ROOT / "evals" / "questions.yaml").read_text("utf-8"))
        found = [t["question"] for c in data["cases"] for t in c.get("turns", [c])]
        return (found * (n // len(found) + 1))[:n]
    from roleguide.evaluation import synthetic as s

    rng = random.Random(5)
    forms = [
        "Who is expected to {verb} {obj}?",
        "What does a {role} do about {obj}?",
        "Which role has to {verb} {obj} {purpose}?",
        "How does a {role} handle {facet}?",
        "What is the {facet} of a {role}?",
    ]
    return [
        rng.choice(forms).format(
            verb=rng.choice(s.VERBS),
            obj=rng.choice(s.OBJECTS),
            role=rng.choice(s.ROLES).lower(),
            purpose=rng.choice(s.PURPOSES),
            facet=rng.choice(s.FACETS).lower(),
        )
        for _ in range(n)
    ]


def build(size: str) -> dict:
    """Ingest the size's corpus into its cached home (first time), then re-ingest it."""
    from roleguide import RoleGuide

    home = CACHE / f"home-{size}"
    guide = RoleGuide(corpus_dir=corpus_for(size), home=home, auto_ingest=False)
    first = guide.ingest()
    again = guide.ingest()
    out = {"chunks": first.chunks, "reingest_s": again.seconds}
    stats = CACHE / f"build-{size}.json"  # the first build's figures, kept with its index
    if first.added:
        built = {
            "ingest_s": first.seconds,
            "embed_s": first.embed_seconds,
            "store_s": first.store_seconds,
            "embedded": first.sentences_embedded,
            "reused": first.sentences_reused,
            "precision": getattr(guide.index.embeddings, "precision", "float32"),
            "built_on": time.strftime("%Y-%m-%d"),
        }
        stats.write_text(json.dumps(built), encoding="utf-8")
    elif stats.exists():
        built = json.loads(stats.read_text("utf-8"))
    else:
        built = {}
    return {**out, **built}


def measure(size: str, http: bool) -> dict:
    """In a fresh process: open the index, ask, time it, read RSS (called via --measure).
    Like `roleguide serve`, it caps malloc arenas before anything else runs."""
    from roleguide.app.memory import cap_malloc_arenas

    cap_malloc_arenas()
    began = time.perf_counter()
    from roleguide import RoleGuide

    guide = RoleGuide(corpus_dir=corpus_for(size), home=CACHE / f"home-{size}")
    open_s = time.perf_counter() - began
    questions = questions_for(size)
    for q in questions[:5]:
        guide.ask(q + " (warm-up)", record=False)
    latencies, abstained = [], 0
    for q in questions:
        t = time.perf_counter()
        abstained += guide.ask(q, record=False).abstained
        latencies.append((time.perf_counter() - t) * 1000)
    out = {
        "open_s": open_s,
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "answered": len(questions) - abstained,
        "questions": len(questions),
    }
    if http:
        import httpx
        from gradio_client import Client

        from roleguide.app.web.ui import serve

        app, url = serve(guide, "127.0.0.1", _free_port(), block=False)
        client = Client(url, verbose=False)
        trips, api = [], []
        for q in questions[:50]:
            t = time.perf_counter()
            client.predict(q + " (http)", [], api_name="/ask")
            trips.append((time.perf_counter() - t) * 1000)
        with httpx.Client(base_url=url.rstrip("/"), timeout=60) as http:
            for q in questions[:50]:
                t = time.perf_counter()
                http.post("/api/ask", json={"question": q + " (api)"}).raise_for_status()
                api.append((time.perf_counter() - t) * 1000)
        app.close()
        out.update(http_p50=statistics.median(trips), http_p95=percentile(trips, 0.95))
        out.update(api_p50=statistics.median(api), api_p95=percentile(api, 0.95))
    out["rss_mib"] = _rss_mib()
    return out


def tutorial(size: str) -> dict:
    """The tutorial pipeline (1000/200 splitter + Chroma similarity search) on the same
    questions: its build time and query latency."""
    from roleguide.evaluation.baseline import build_baseline
    from roleguide.store.embeddings import load_embeddings

    began = time.perf_counter()
    base = build_baseline(corpus_for(size), load_embeddings(), k=5)
    build_s = time.perf_counter() - began
    latencies = []
    for q in questions_for(size):
        t = time.perf_counter()
        base.search(q + " (tutorial)")
        latencies.append((time.perf_counter() - t) * 1000)
    return {
        "build_s": build_s,
        "chunks": len(base.documents),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
    }


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _in_fresh_process(size: str, http: bool) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", size, *(["--http"] if http else [])],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--measure", choices=list(SIZES))
    parser.add_argument("--http", action="store_true")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.http)))
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        print(f"[{size}] building…", flush=True)
        built = build(size)
        print(f"[{size}] {built}", flush=True)
        measured = _in_fresh_process(size, http=size != "10k")
        print(f"[{size}] {measured}", flush=True)
        ref = tutorial(size) if size != "100k" else None
        rows.append((size, built, measured, ref))
    lines = [
        SECTION,
        "",
        "| corpus | chunks | first ingest | re-ingest, unchanged | `RoleGuide()` ready | "
        "`ask` p50 / p95 (in-process, 200 q) | `POST /api/ask` p50 / p95 | Gradio `/ask` "
        "(gradio_client) p50 / p95 | RSS after asking "
        "| tutorial pipeline p50 / p95 (retrieval only) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, built, m, ref in rows:
        first = (
            f"{built['ingest_s']:.0f} s (embed {built['embed_s']:.0f} s, store "
            f"{built['store_s']:.0f} s; {built['embedded']} sentences embedded, "
            f"{built['reused']} reused; {built.get('precision', 'float32, batch 128')}, "
            f"built {built.get('built_on', 'by an earlier version')})"
            if "ingest_s" in built
            else "built by an earlier run"
        )
        http = f"{m['http_p50']:.0f} / {m['http_p95']:.0f} ms" if "http_p50" in m else "—"
        api = f"{m['api_p50']:.1f} / {m['api_p95']:.1f} ms" if "api_p50" in m else "—"
        tut = f"{ref['p50']:.1f} / {ref['p95']:.1f} ms" if ref else "—"
        rows_text = (
            f"| {size} | {built['chunks']:,} | {first} | {built['reingest_s']:.2f} s | "
            f"{m['open_s']:.1f} s | {m['p50']:.1f} / {m['p95']:.1f} ms | {api} | {http} | "
            f"{m['rss_mib']:.0f} MiB | {tut} |"
        )
        lines.append(rows_text)
        if size == "100k":
            record_targets(
                {"ask_100k_p50_ms": m["p50"], "rss_100k_mib": m["rss_mib"]},
                note=f"bench_scale, 100k row ({built['chunks']:,} chunks)",
            )
    chart(rows)
    lines += [
        "",
        "Targets: p50 ≤ 30 ms and p95 ≤ 80 ms at corpus size; p50 ≤ 75 ms and p95 ≤ 200 ms "
        "and RSS ≤ 2 GiB at 100k chunks; re-ingest of an unchanged 100k corpus under a minute.",
        "",
        f"![ask latency by corpus size]({CHART.name})",
        "",
    ]
    write_section(SECTION, lines)


def chart(rows) -> None:
    """p50/p95 of ``ask`` per corpus size, in-process and over HTTP, against the targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [f"{size}\n{built['chunks']:,} chunks" for size, built, _, _ in rows]
    series = [
        ("in-process p50", [m["p50"] for _, _, m, _ in rows], "#2b6cb0"),
        ("in-process p95", [m["p95"] for _, _, m, _ in rows], "#63a0d8"),
        ("tutorial pipeline p50", [r["p50"] if r else 0 for *_, r in rows], "#a0a0a0"),
    ]
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    width = 0.8 / len(series)
    for i, (label, values, color) in enumerate(series):
        xs = [x + (i - 1) * width for x in range(len(rows))]
        ax.bar(xs, values, width, label=label, color=color)
    ax.axhline(75, color="#c53030", linestyle="--", linewidth=1, label="100k p50 target (75 ms)")
    ax.set_ylim(0, 1.45 * max(75, *(v for _, values, _ in series for v in values)))
    ax.set_xticks(range(len(rows)), sizes)
    ax.set_ylabel("ms per question (lower is better)")
    ax.set_title("`ask` latency by corpus size, 200 questions each", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", ncol=2)
    fig.tight_layout()
    fig.savefig(CHART, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
