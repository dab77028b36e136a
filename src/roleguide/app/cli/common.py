"""What every ``roleguide`` command shares: the options, opening a guide, and the one
error boundary that turns roleguide's errors into one-line messages (exit status 2).

Nothing heavy is imported here (no torch, no chromadb), so ``roleguide --help`` stays quick.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel
from rich.markup import escape
from typer.core import TyperGroup

from roleguide.app.cli.output import err
from roleguide.errors import RoleGuideError

if TYPE_CHECKING:
    from roleguide.api import RoleGuide

__all__ = [
    "ChromaOpt",
    "CorpusOpt",
    "ErrorBoundary",
    "HomeOpt",
    "LlmOpt",
    "fail",
    "open_guide",
    "print_error",
    "print_json",
]

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


def print_error(problem: str | BaseException) -> None:
    """``Error: …`` on stderr, one line per line of the message (an ``ArticleError`` names
    each refused item on its own line)."""
    for line in str(problem).splitlines() or [""]:
        err.print(f"[bold red]Error:[/] {escape(line)}")


def fail(problem: str | BaseException) -> typer.Exit:
    """Print the problem and return the exit (status 2) for the caller to raise."""
    print_error(problem)
    return typer.Exit(2)


class ErrorBoundary(TyperGroup):
    """The ``roleguide`` command group: any ``RoleGuideError`` a command lets through
    (a bad setting, question, corpus or index) ends it as a one-line message, exit 2.
    Everything else is a bug and keeps its traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RoleGuideError as e:
            raise fail(e) from None


def open_guide(
    corpus: Path | None,
    home: Path | None,
    chroma_url: str | None = None,
    *,
    auto_ingest: bool = True,
    llm: str | None = None,
    embed_precision: str | None = None,
) -> RoleGuide:
    """A ``RoleGuide`` for these options (None: the env var or the default), with a spinner
    while the model and the index load."""
    from roleguide.api import RoleGuide

    with err.status("Loading the model and the index…"):
        return RoleGuide(
            corpus_dir=corpus,
            home=home,
            chroma_url=chroma_url,
            auto_ingest=auto_ingest,
            llm=llm,
            embed_precision=embed_precision,
        )


def print_json(model: BaseModel) -> None:
    """A result model as indented JSON on stdout (no markup, no wrapping)."""
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")
