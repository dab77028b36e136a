"""The ``roleguide`` command: ingest, ask, chat. Errors become one-line messages here only.

Heavy modules (torch, chromadb) load inside the commands, so ``roleguide --help`` is quick.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from . import __version__
from .errors import RoleGuideError

__all__ = ["app", "main"]

app = typer.Typer(
    name="roleguide",
    help="Cited answers about operations, logistics and procurement roles, from your articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

CorpusOpt = Annotated[
    Path | None,
    typer.Option("--corpus", help="Folder of articles [env: ROLEGUIDE_CORPUS; default: corpus]"),
]
ChromaOpt = Annotated[
    str | None,
    typer.Option("--chroma-url", help="Chroma server http://host:port [env: ROLEGUIDE_CHROMA_URL]"),
]
HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="Data directory [env: ROLEGUIDE_HOME; default: .roleguide]"),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {escape(message)}")
    return typer.Exit(2)


def _guide(
    corpus: Path | None, home: Path | None, chroma_url: str | None = None, *, auto_ingest=True
):
    from .api import RoleGuide

    with err.status("Loading the model and the index…"):
        return RoleGuide(
            corpus_dir=corpus, home=home, chroma_url=chroma_url, auto_ingest=auto_ingest
        )


def _print_answer(answer) -> None:
    if answer.comparison is not None:
        out.print(escape(answer.text.split("\n", 1)[0]))
        _print_comparison(answer.comparison)
        return
    style = "yellow" if answer.abstained else "default"
    out.print(escape(answer.text), style=style)
    if answer.query != answer.question:
        out.print(f"[dim](searched for: {escape(answer.query)})[/]")
    for c in answer.citations:
        out.print(
            f"  [bold cyan][{c.number}][/] [bold]{escape(c.title)}[/] — {escape(c.section)}"
            f" [dim]({escape(c.source)}, chars {c.start}–{c.end})[/]"
        )
    if answer.related:
        out.print("[dim]Related reading (not an answer):[/]")
        for c in answer.related:
            out.print(f"  • {escape(c.title)} — {escape(c.section)}: [dim]{escape(c.quote)}[/]")


def _version(value: bool) -> None:
    if value:
        out.print(f"roleguide {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Cited answers about operations, logistics and procurement roles."""


@app.command()
def ingest(
    rebuild: Annotated[bool, typer.Option(help="Drop the index and build it anew.")] = False,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Build or update the index from the corpus folder (only changed files are embedded)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    try:
        guide = _guide(corpus, home, chroma_url, auto_ingest=False)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
        ) as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage.capitalize(), total=total)
                bar.update(tasks[stage], completed=done, total=total)

            report = guide.ingest(rebuild=rebuild, progress=progress)
    except RoleGuideError as e:
        raise _fail(str(e)) from None
    for warning in report.warnings:
        err.print(f"[yellow]Warning:[/] {escape(warning)}")
    for skipped in report.skipped:
        err.print(f"[yellow]Skipped[/] {escape(skipped.source)}: {escape(skipped.reason)}")
    table = Table(title=f"Index in {guide.index.where}", show_header=False, box=None)
    table.add_row("files ingested", str(len(report.files)))
    table.add_row("files skipped", str(len(report.skipped)))
    table.add_row(
        "chunks",
        f"{report.chunks} (added {report.added}, updated {report.updated}, "
        f"removed {report.removed}, unchanged {report.unchanged})",
    )
    table.add_row("sentences embedded", str(report.sentences_embedded))
    table.add_row("time", f"{report.seconds:.1f} s")
    out.print(table)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in quotes.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Ask one question and print the cited answer."""
    from .config import resolve_settings
    from .query import clean_question

    try:
        clean_question(question, resolve_settings().max_question_chars)
        answer = _guide(corpus, home, chroma_url).ask(question)
    except (RoleGuideError, ValueError) as e:
        raise _fail(str(e)) from None
    if json_output:
        sys.stdout.write(answer.model_dump_json(indent=2) + "\n")
    else:
        _print_answer(answer)


@app.command()
def chat(corpus: CorpusOpt = None, home: HomeOpt = None, chroma_url: ChromaOpt = None) -> None:
    """Talk with roleguide in the terminal; follow-up questions use the conversation."""
    try:
        guide = _guide(corpus, home, chroma_url)
    except RoleGuideError as e:
        raise _fail(str(e)) from None
    out.print(
        "[bold]roleguide[/] — ask about operations, logistics and procurement roles.\n"
        "[dim]Type /clear to start over, /quit (or Ctrl-D) to leave.[/]"
    )
    history: list[dict] = []
    while True:
        try:
            question = out.input("[bold green]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            out.print()
            return
        if not question:
            continue
        if question in ("/quit", "/exit"):
            return
        if question == "/clear":
            history.clear()
            out.print("[dim]Conversation cleared.[/]")
            continue
        try:
            answer = guide.ask(question, history)
        except RoleGuideError as e:
            err.print(f"[bold red]Error:[/] {escape(str(e))}")
            continue
        _print_answer(answer)
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]


def _citation_lines(citations) -> None:
    for c in citations:
        out.print(
            f"  [bold cyan][{c.number}][/] {escape(c.title)} — {escape(c.section)}"
            f" [dim]({escape(c.source)}, chars {c.start}–{c.end})[/]"
        )


def _print_comparison(table) -> None:
    from rich.table import Table

    grid = Table(show_lines=True, expand=True)
    grid.add_column("Facet", style="bold", ratio=1, overflow="fold")
    for role in table.roles:
        grid.add_column(role, ratio=3)
    for row in table.rows:
        cells = [
            f"“{escape(c.citation.quote)}” [cyan][{c.citation.number}][/]"
            if c.citation
            else "[dim]not stated in the articles[/]"
            for c in row.cells
        ]
        grid.add_row(escape(row.facet), *cells)
    out.print(grid)
    _citation_lines(table.citations)


@app.command()
def roles(corpus: CorpusOpt = None, home: HomeOpt = None, chroma_url: ChromaOpt = None) -> None:
    """List the roles the corpus covers, their aliases and how many passages speak of each."""
    from rich.table import Table

    try:
        found = _guide(corpus, home, chroma_url).roles()
    except RoleGuideError as e:
        raise _fail(str(e)) from None
    grid = Table("role", "aliases", "passages", "articles")
    for r in found:
        grid.add_row(r.name, ", ".join(r.aliases) or "—", str(r.passages), str(len(r.sources)))
    out.print(grid)


@app.command()
def compare(
    first: Annotated[str, typer.Argument(help="A role, e.g. 'Operations Manager'.")],
    second: Annotated[str, typer.Argument(help="Another role, e.g. 'purchasing manager'.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table.")] = False,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Compare two roles facet by facet; every cell is a cited quote."""
    try:
        table = _guide(corpus, home, chroma_url).compare(first, second)
    except RoleGuideError as e:
        raise _fail(str(e)) from None
    if json_output:
        sys.stdout.write(table.model_dump_json(indent=2) + "\n")
    elif markdown:
        lines = [table.to_markdown(), ""]
        lines += [f"[{c.number}] {c.title} — {c.section} ({c.source})" for c in table.citations]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        _print_comparison(table)


@app.command()
def profile(
    role: Annotated[str, typer.Argument(help="A role, e.g. 'Logistics Manager'.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Everything the articles say about one role, grouped by facet."""
    try:
        found = _guide(corpus, home, chroma_url).profile(role)
    except RoleGuideError as e:
        raise _fail(str(e)) from None
    if json_output:
        sys.stdout.write(found.model_dump_json(indent=2) + "\n")
        return
    out.print(f"[bold]{escape(found.role)}[/]")
    for section in found.sections:
        out.print(f"\n[bold]{escape(section.facet)}[/]")
        for c in section.citations:
            out.print(f"  “{escape(c.quote)}” [cyan][{c.number}][/] [dim]{escape(c.source)}[/]")


@app.command()
def match(
    interests: Annotated[list[str], typer.Argument(help="Tasks or interests, each in quotes.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Which roles' described work matches these tasks or interests (a pointer, not advice)."""
    try:
        result = _guide(corpus, home, chroma_url).match(interests)
    except RoleGuideError as e:
        raise _fail(str(e)) from None
    if json_output:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    for rank, m in enumerate(result.matches, start=1):
        out.print(f"{rank}. [bold]{escape(m.role)}[/] [dim](score {m.score:.2f})[/]")
        for c in m.evidence:
            out.print(f"   “{escape(c.quote)}” [dim]— {escape(c.title)}, {escape(c.section)}[/]")
    out.print(f"[dim]{escape(result.note)}[/]")


@app.command("eval")
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
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Run a question set: retrieval metrics (ranx), answer checks, reports."""
    from .evaluation import RETRIEVERS, QuestionSetError, evaluate
    from .evaluation.report import print_table, write_chart, write_json, write_markdown

    chosen = list(RETRIEVERS) if retriever == "all" else [retriever]
    if any(r not in RETRIEVERS for r in chosen):
        raise _fail(f"unknown retriever {retriever!r}; choose dense, bm25, hybrid, baseline or all")
    if min_pass is not None and not 0 <= min_pass <= 1:
        raise _fail("--min-pass is a share between 0 and 1, e.g. 0.9")
    try:
        guide = _guide(corpus, home, chroma_url)
        with err.status(f"Evaluating {', '.join(chosen)}…"):
            report = evaluate(question_set, guide, chosen)
    except (RoleGuideError, QuestionSetError) as e:
        raise _fail(str(e)) from None
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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (127.0.0.1: this machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 7860,
    share: Annotated[bool, typer.Option(help="Also make a public gradio.live link.")] = False,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Start the web app (chat with cited, inspectable answers)."""
    try:
        guide = _guide(corpus, home, chroma_url)
        with err.status("Warming up…"):
            guide.ask("Who handles customs compliance?")
            from .ui import serve as serve_app
        err.print(f"roleguide is ready at [bold]http://{host}:{port}/[/] (Ctrl-C stops it)")
        serve_app(guide, host, port, share=share)
    except RoleGuideError as e:
        raise _fail(str(e)) from None
    except OSError as e:
        raise _fail(f"cannot start the web app on {host}:{port} ({e}); try --port") from None


def main() -> None:
    """Entry point of the ``roleguide`` script."""
    app()


if __name__ == "__main__":
    main()
