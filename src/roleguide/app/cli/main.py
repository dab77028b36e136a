"""The ``roleguide`` command: ingest, ask, chat and the career tools; the corpus, eval and
serve commands are registered from their own modules.

roleguide's errors become one-line messages only at the app's boundary (``common``).
Heavy modules (torch, chromadb) load inside the commands, so ``roleguide --help`` is quick.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from roleguide import __version__
from roleguide.app.cli import corpus as corpus_commands
from roleguide.app.cli import evaluate, serve
from roleguide.app.cli.common import (
    ChromaOpt,
    CorpusOpt,
    ErrorBoundary,
    HomeOpt,
    LlmOpt,
    open_guide,
    print_error,
    print_json,
)
from roleguide.app.cli.output import err, out, print_comparison, stream_answer
from roleguide.ask.roles import describe_roles
from roleguide.errors import RoleGuideError

if TYPE_CHECKING:
    from roleguide.ask.conversation import Message
    from roleguide.models import Citation

__all__ = ["app", "main"]

app = typer.Typer(
    name="roleguide",
    help="Cited answers about career roles, from your articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=ErrorBoundary,  # roleguide's errors become one-line messages there, and only there
)


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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
    from rich.table import Table

    guide = open_guide(corpus, home, chroma_url, auto_ingest=False, embed_precision=precision)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage.capitalize(), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        report = guide.ingest(rebuild=rebuild, progress=progress)
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

    clean_question(question, resolve_settings().max_question_chars)  # before the model loads
    guide = open_guide(corpus, home, chroma_url, llm=llm)
    if json_output:
        print_json(guide.ask(question))
    else:
        stream_answer(guide, question)


@app.command()
def chat(
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
    llm: LlmOpt = None,
) -> None:
    """Talk with roleguide in the terminal; follow-up questions use the conversation."""
    guide = open_guide(corpus, home, chroma_url, llm=llm)
    out.print(
        f"[bold]roleguide[/] — ask about {describe_roles([r.name for r in guide.roles()])}.\n"
        "[dim]Type /clear to start over, /quit (or Ctrl-D) to leave.[/]"
    )
    history: list[Message] = []
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
        except RoleGuideError as e:  # one question refused: say why and keep the chat going
            print_error(e)
            continue
        history.extend(
            [
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer.text},
            ]
        )


@app.command()
def roles(corpus: CorpusOpt = None, home: HomeOpt = None, chroma_url: ChromaOpt = None) -> None:
    """List the roles the corpus covers, their aliases and how many passages speak of each."""
    from rich.table import Table

    found = open_guide(corpus, home, chroma_url).roles()
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
    table = open_guide(corpus, home, chroma_url).compare(first, second)
    if json_output:
        print_json(table)
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
    found = open_guide(corpus, home, chroma_url).profile(role)
    if json_output:
        print_json(found)
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
    result = open_guide(corpus, home, chroma_url).match(interests)
    if json_output:
        print_json(result)
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


for module in (evaluate, serve, corpus_commands):  # eval; serve; add remove sources gaps
    module.register(app)


def main() -> None:
    """Entry point of the ``roleguide`` script."""
    app()


if __name__ == "__main__":
    main()
