"""Eval reports: a rich table side by side, JSON, Markdown (every failing case), a PNG chart."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from roleguide.evaluation.suite import EvalReport

__all__ = ["ROWS", "print_table", "write_chart", "write_json", "write_markdown"]

# (label, section, key, kind): what the table, the Markdown and the chart show.
ROWS = [
    ("hit@1", "retrieval", "hit@1", "rate"),
    ("hit@3", "retrieval", "hit@3", "rate"),
    ("MRR", "retrieval", "mrr", "rate"),
    ("nDCG@5", "retrieval", "ndcg@5", "rate"),
    ("pass rate", "answers", "pass_rate", "rate"),
    ("evidence in citation [1]", "answers", "evidence_in_citation_1", "rate"),
    ("lead-sentence role accuracy", "answers", "lead_role_accuracy", "rate"),
    ("required-phrase recall", "answers", "required_phrase_recall", "rate"),
    ("citations verbatim", "answers", "citations_verbatim", "rate"),
    ("abstention precision", "answers", "abstention_precision", "rate"),
    ("abstention recall", "answers", "abstention_recall", "rate"),
    ("follow-up success", "answers", "followup_success", "rate"),
    ("latency p50 (ms)", "answers", "latency_p50_ms", "ms"),
    ("latency p95 (ms)", "answers", "latency_p95_ms", "ms"),
]
CHART_KEYS = ["hit@1", "hit@3", "MRR", "nDCG@5", "pass rate", "evidence in citation [1]"]


def _value(report: EvalReport, name: str, section: str, key: str, split: str | None = None):
    result = report.retrievers[name]
    if split is not None:
        data = result.by_split.get(split, {}).get(section) or {}
    else:
        data = result.retrieval if section == "retrieval" else (result.answers or {})
    return data.get(key)


def _views(report: EvalReport) -> list[tuple[str | None, str]]:
    """(split or None for the whole run, its caption): the whole run, then each split."""
    splits = sorted({s for r in report.retrievers.values() for s in r.by_split})
    whole = "all cases" if report.split == "all" else f"{report.split} split"
    views: list[tuple[str | None, str]] = [(None, whole)]
    return views + [(s, f"{s} split") for s in splits]


def _cell(value, kind: str) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if kind == "ms" else f"{value:.1%}"


def print_table(report: EvalReport, console: Console | None = None) -> None:
    """The metrics of every retriever, side by side."""
    console = console or Console()
    names = list(report.retrievers)
    for split, caption in _views(report):
        table = Table(title=f"roleguide eval — {report.question_set} ({caption})")
        table.add_column("metric")
        for name in names:
            table.add_column(name, justify="right")
        for label, section, key, kind in ROWS:
            cells = [_cell(_value(report, n, section, key, split), kind) for n in names]
            table.add_row(label, *cells)
        console.print(table)


def write_json(report: EvalReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")


def write_markdown(report: EvalReport, path: Path, chart: Path | None = None) -> None:
    """Summary table, then every failing case with what fell short."""
    names = list(report.retrievers)
    lines = [
        "# roleguide evaluation",
        "",
        f"Question set `{report.question_set}` on corpus `{report.corpus}`, run {report.created}. "
        "The baseline is the tutorial pipeline (RecursiveCharacterTextSplitter 1000/200 + dense "
        "top-k); it retrieves but has no answerer, so its answer rows are empty.",
    ]
    for split, caption in _views(report):
        lines += [
            "",
            f"**{caption}**",
            "",
            "| metric | " + " | ".join(names) + " |",
            "| --- | " + " | ".join("---:" for _ in names) + " |",
        ]
        for label, section, key, kind in ROWS:
            cells = [_cell(_value(report, n, section, key, split), kind) for n in names]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if chart is not None:
        lines += ["", f"![retrievers compared]({chart.name})"]
    for name, result in report.retrievers.items():
        if result.answers is None:
            continue
        failing = [r for r in result.results if not r.passed]
        lines += ["", f"## Failing cases — {name} ({len(failing)} of {len(result.results)})", ""]
        if not failing:
            lines.append("None.")
        for r in failing:
            lines.append(f"- **{r.label}** — {r.question}")
            lines += [f"  - {failure}" for failure in r.failures]
            if r.answer.query != r.question:
                lines.append(f"  - searched: {r.answer.query}")
            if r.answer.citations:
                lines.append(f"  - cited [1]: “{r.answer.citations[0].quote}”")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_chart(report: EvalReport, path: Path) -> None:
    """Grouped bars: retrieval and answer rates per retriever."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report.retrievers)
    rows = [r for r in ROWS if r[0] in CHART_KEYS]
    width = 0.8 / max(1, len(names))
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=110)
    for i, name in enumerate(names):
        points = [
            (j + i * width, v)
            for j, (_, s, k, _) in enumerate(rows)
            if (v := _value(report, name, s, k)) is not None
        ]
        bars = ax.bar([x for x, _ in points], [v for _, v in points], width, label=name)
        ax.bar_label(bars, labels=[f"{v:.0%}" for _, v in points], fontsize=7, padding=2)
    ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(rows))])
    ax.set_xticklabels([r[0] for r in rows], fontsize=9)
    ax.set_ylim(0, 1.22)
    ax.set_ylabel("share of questions")
    ax.set_title("roleguide: retrievers compared on " + Path(report.question_set).name)
    ax.legend(loc="upper center", ncol=len(names), fontsize=8, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
