"""The ``roleguide`` command: ingest, ask, chat. Errors become one-line messages here only.

Heavy modules (torch, chromadb) load inside the commands, so ``roleguide --help`` is quick.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from roleguide import __version__
from roleguide.app.cli.output import err, out, print_comparison, stream_answer
from roleguide.ask.roles import describe_roles
from roleguide.errors import RoleGuideError

if TYPE_CHECKING:
    from roleguide.models import Citation

__all__ = ["app", "main"]

app = typer.Typer(
    name="roleguide",
    help="Cited answers about career roles, from your articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CorpusOpt = Annotated[
    Path | None,
    typer.Option("--corpus", help="Folder of articles [env: ROLEGUIDE_CORPUS; default: corpus]"),
]
ChromaOpt = Annotated[
    str | None,
    typer.Option("--chroma-url", help="Chroma server http://host:port [env: ROLEGUIDE_CHROMA_URL]"),
]
LlmOpt = Annotated[
    str | None,
    typer.Option("--llm", help="openai:<model> or ollama:<model> [env: ROLEGUIDE_LLM]"),
]
HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="Data directory [env: ROLEGUIDE_HOME; default: .roleguide]"),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {escape(message)}")
    return typer.Exit(2)


def _guide(
    corpus: Path | None,
    home: Path | None,
    chroma_url: str | None = None,
    *,
    auto_ingest: bool = True,
    llm: str | None = None,
    embed_precision: str | None = None,
):
    from roleguide.api import RoleGuide

    with err.status("Loading the model and the index…"):
        try:
            return RoleGuide(
                corpus_dir=corpus,
                home=home,
                chroma_url=chroma_url,
                auto_ingest=auto_ingest,
                llm=llm,
                embed_precision=embed_precision,
            )
        except ValueError as e:  # a malformed setting (ROLEGUIDE_LLM, ROLEGUIDE_TOP_K, …)
            raise _fail(str(e)) from None


def _result(call, corpus: Path | None, home: Path | None, chroma_url: str | None):
    """``call(guide)``, with roleguide's errors turned into a one-line message."""
    try:
        return call(_guide(corpus, home, chroma_url))
    except RoleGuideError as e:
        raise _fail(str(e)) from None


def _print_json(model) -> None:
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")


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
    """Cited answers about career roles, from your articles."""


@app.command()
def ingest(
    rebuild: Annotated[bool, typer.Option(help="Drop the index and build it anew.")] = False,
    precision: Annotated[
        str | None,
        typer.Option(
            help="Embedding arithmetic: auto, float32 or bfloat16 "
            "[env: ROLEGUIDE_EMBED_PRECISION; default: auto]"
        ),
    ] = None,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Build or update the index from the corpus folder (only changed files are embedded)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    try:
        guide = _guide(corpus, home, chroma_url, auto_ingest=False, embed_precision=precision)
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
    for source, found in report.roles.items():
        if found:
            out.print(f"[bold]{escape(source)}[/]: {escape(', '.join(found))}")
        else:
            err.print(
                f"[yellow]Warning:[/] no roles found in {escape(source)}: name the role in its "
                "title or headings, or add 'roles: [...]' front matter"
            )
    table = Table(title=f"Index in {guide.index.where}", show_header=False, box=None)
    table.add_row("files ingested", str(len(report.files)))
    table.add_row("files skipped", str(len(report.skipped)))
    table.add_row(
        "chunks",
        f"{report.chunks} (added {report.added}, updated {report.updated}, "
        f"removed {report.removed}, unchanged {report.unchanged})",
    )
    table.add_row("sentences embedded", str(report.sentences_embedded))
    used = report.sentences_embedded and getattr(guide.index.embeddings, "precision", None)
    if used:  # only asked when something was embedded: resolving it loads torch
        table.add_row("embedding precision", used)
    backend = getattr(guide.index.embeddings, "query_backend", None)
    if backend:  # onnxruntime, or sentence-transformers when the export could not be made
        table.add_row("questions embedded by", backend)
    table.add_row("time", f"{report.seconds:.1f} s")
    out.print(table)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in quotes.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
    llm: LlmOpt = None,
) -> None:
    """Ask one question and print the cited answer."""
    from roleguide.ask.query import clean_question
    from roleguide.config import resolve_settings

    try:
        clean_question(question, resolve_settings().max_question_chars)
        guide = _guide(corpus, home, chroma_url, llm=llm)
        if json_output:
            _print_json(guide.ask(question))
        else:
            stream_answer(guide, question)
    except (RoleGuideError, ValueError) as e:
        raise _fail(str(e)) from None


@app.command()
def chat(
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
    llm: LlmOpt = None,
) -> None:
    """Talk with roleguide in the terminal; follow-up questions use the conversation."""
    try:
        guide = _guide(corpus, home, chroma_url, llm=llm)
    except RoleGuideError as e:
        raise _fail(str(e)) from None
    out.print(
        f"[bold]roleguide[/] — ask about {describe_roles([r.name for r in guide.roles()])}.\n"
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
            answer = stream_answer(guide, question, history)
        except RoleGuideError as e:
            err.print(f"[bold red]Error:[/] {escape(str(e))}")
            continue
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]


@app.command()
def roles(corpus: CorpusOpt = None, home: HomeOpt = None, chroma_url: ChromaOpt = None) -> None:
    """List the roles the corpus covers, their aliases and how many passages speak of each."""
    from rich.table import Table

    found = _result(lambda guide: guide.roles(), corpus, home, chroma_url)
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
    table = _result(lambda guide: guide.compare(first, second), corpus, home, chroma_url)
    if json_output:
        _print_json(table)
    elif markdown:
        lines = [table.to_markdown(), ""]
        lines += [f"[{c.number}] {c.title} — {c.section} ({c.source})" for c in table.citations]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        print_comparison(table)


@app.command()
def profile(
    role: Annotated[str, typer.Argument(help="A role, e.g. 'Logistics Manager'.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Everything the articles say about one role, grouped by facet."""
    found = _result(lambda guide: guide.profile(role), corpus, home, chroma_url)
    if json_output:
        _print_json(found)
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
    result = _result(lambda guide: guide.match(interests), corpus, home, chroma_url)
    if json_output:
        _print_json(result)
        return
    for rank, m in enumerate(result.matches, start=1):
        said = escape(m.summary) if m.summary else f"score {m.score:.2f}"
        out.print(f"{rank}. [bold]{escape(m.role)}[/] — {said}")
        for hit in m.hits:  # each interest, and the statement that matched it
            found = hit.citation if hit.matched else None
            said = _quoted(found) if found else "[dim]nothing said of this role matched it[/]"
            out.print(f"   {escape(hit.interest)} → {said}")
        if not m.hits:
            for c in m.evidence:
                out.print(f"   {_quoted(c)}")
    out.print(f"[dim]{escape(result.note)}[/]")


def _quoted(c: Citation) -> str:
    """A quote as the terminal shows it: verbatim, with its article and section dimmed."""
    return f"“{escape(c.quote)}” [dim]— {escape(c.title)}, {escape(c.section)}[/]"


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
    from roleguide.evaluation import RETRIEVERS, QuestionSetError, evaluate
    from roleguide.evaluation.front_matter import (
        FRONT_MATTER_FILE,
        FrontMatterError,
        front_matter_corpus,
    )
    from roleguide.evaluation.report import print_table, write_chart, write_json, write_markdown

    chosen = list(RETRIEVERS) if retriever == "all" else [retriever]
    if any(r not in RETRIEVERS for r in chosen):
        raise _fail(f"unknown retriever {retriever!r}; choose dense, bm25, hybrid, baseline or all")
    if min_pass is not None and not 0 <= min_pass <= 1:
        raise _fail("--min-pass is a share between 0 and 1, e.g. 0.9")
    if split not in ("all", "dev", "test"):
        raise _fail(f"unknown split {split!r}; choose dev, test or all")
    scratch = None
    if corpus is not None or front_matter:
        scratch = tempfile.TemporaryDirectory(prefix="roleguide-eval-", ignore_cleanup_errors=True)
        if home is None and not os.environ.get("ROLEGUIDE_HOME"):
            home = Path(scratch.name) / "home"
    try:
        if front_matter:
            source = resolve_settings(corpus_dir=corpus).corpus_dir
            corpus = front_matter_corpus(source, Path(scratch.name) / "corpus")
        guide = _guide(corpus, home, chroma_url)
        with err.status(f"Evaluating {', '.join(chosen)}…"):
            report = evaluate(question_set, guide, chosen, split=split)
        if front_matter:
            report.corpus = f"{source} with front matter from {FRONT_MATTER_FILE}"
    except (RoleGuideError, QuestionSetError, FrontMatterError) as e:
        raise _fail(str(e)) from None
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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (127.0.0.1: this machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 7860,
    share: Annotated[bool, typer.Option(help="Also make a public gradio.live link.")] = False,
    admin_token: Annotated[
        str | None,
        typer.Option(
            help="Lets the Articles tab change the corpus beyond 127.0.0.1 "
            "[env: ROLEGUIDE_ADMIN_TOKEN]"
        ),
    ] = None,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
    llm: LlmOpt = None,
) -> None:
    """Start the web app (chat with cited, inspectable answers)."""
    from roleguide.app.memory import cap_malloc_arenas

    cap_malloc_arenas()  # before the model's and the server's threads exist
    from roleguide.app.web.ui import serve as serve_app

    try:
        guide = _guide(corpus, home, chroma_url, llm=llm)
        with err.status("Warming up…"):
            guide.ask("Who handles customs compliance?", record=False)
        err.print(f"roleguide is ready at [bold]http://{host}:{port}/[/] (Ctrl-C stops it)")
        serve_app(guide, host, port, share=share, admin_token=admin_token)
    except RoleGuideError as e:
        raise _fail(str(e)) from None
    except OSError as e:
        raise _fail(f"cannot start the web app on {host}:{port} ({e}); try --port") from None


from roleguide.app.cli.corpus import register  # noqa: E402  (add, remove, sources, gaps)

register(sys.modules[__name__])


def main() -> None:
    """Entry point of the ``roleguide`` script."""
    app()


if __name__ == "__main__":
    main()
