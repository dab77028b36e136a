"""``roleguide eval``: run a question set through one or more retrievers and report.

Registered on the main app by ``register(app)``; its refusals are one line each, exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from roleguide.app.cli.common import ChromaOpt, CorpusOpt, HomeOpt, fail, open_guide
from roleguide.app.cli.output import err, out

__all__ = ["eval_command", "register"]


def eval_command(
    question_set: Annotated[
        Path, typer.Argument(help="Question set (YAML); schema in evals/README.md.")
    ] = Path("evals/questions.yaml"),
    retriever: Annotated[
        str, typer.Option(help="dense, bm25, hybrid, baseline, or all (side by side).")
    ] = "hybrid",
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON report here.")
    ] = (None),
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for report.json, report.md and retrievers.png."),
    ] = None,
    min_pass: Annotated[
        float | None,
        typer.Option(help="Exit with status 1 when the pass rate is below this (0..1)."),
    ] = None,
    split: Annotated[
        str, typer.Option(help="dev, test or all (all also reports each split).")
    ] = "all",
    front_matter: Annotated[
        bool,
        typer.Option(
            "--front-matter",
            help="Run on a copy of the corpus with title/roles front matter prepended from "
            "front_matter.yaml beside the corpus folder.",
        ),
    ] = False,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Run a question set: retrieval metrics (ranx), answer checks, reports.

    With --corpus or --front-matter and no --home, the index is built in a temporary
    folder (removed afterwards), so the app's own index is left as it is.
    """
    import os
    import tempfile

    from roleguide.config import resolve_settings
    from roleguide.evaluation import RETRIEVERS, evaluate
    from roleguide.evaluation.front_matter import FRONT_MATTER_FILE, front_matter_corpus
    from roleguide.evaluation.report import print_table, write_chart, write_json, write_markdown

    chosen = list(RETRIEVERS) if retriever == "all" else [retriever]
    if any(r not in RETRIEVERS for r in chosen):
        raise fail(f"unknown retriever {retriever!r}; choose dense, bm25, hybrid, baseline or all")
    if min_pass is not None and not 0 <= min_pass <= 1:
        raise fail("--min-pass is a share between 0 and 1, e.g. 0.9")
    if split not in ("all", "dev", "test"):
        raise fail(f"unknown split {split!r}; choose dev, test or all")
    scratch = None
    if corpus is not None or front_matter:
        scratch = tempfile.TemporaryDirectory(prefix="roleguide-eval-", ignore_cleanup_errors=True)
        if home is None and not os.environ.get("ROLEGUIDE_HOME"):
            home = Path(scratch.name) / "home"
    source = None
    try:  # QuestionSetError and FrontMatterError are RoleGuideErrors: the boundary says them
        if scratch is not None and front_matter:
            source = resolve_settings(corpus_dir=corpus).corpus_dir
            corpus = front_matter_corpus(source, Path(scratch.name) / "corpus")
        guide = open_guide(corpus, home, chroma_url)
        with err.status(f"Evaluating {', '.join(chosen)}…"):
            report = evaluate(question_set, guide, chosen, split=split)
        if source is not None:
            report.corpus = f"{source} with front matter from {FRONT_MATTER_FILE}"
    finally:
        if scratch is not None:
            scratch.cleanup()
    print_table(report, out)
    if out_dir is not None:
        chart = out_dir / "retrievers.png"
        write_chart(report, chart)
        write_markdown(report, out_dir / "report.md", chart)
        write_json(report, out_dir / "report.json")
        out.print(f"Reports written to {out_dir}/ (report.json, report.md, retrievers.png)")
    if json_path is not None:
        write_json(report, json_path)
    rate = report.primary_answers.get("pass_rate")
    if min_pass is not None and rate is not None:
        verdict = "below" if rate < min_pass else "meets"
        (err if rate < min_pass else out).print(
            f"pass rate {rate:.1%} ({report.primary.name}) {verdict} --min-pass {min_pass:.0%}"
        )
        if rate < min_pass:
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``eval`` to the ``roleguide`` app."""
    app.command("eval")(eval_command)
