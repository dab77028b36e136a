"""CLI commands that keep the corpus current: ``add``, ``remove``, ``sources``, ``gaps``.

Registered on the main ``roleguide`` app by ``register(app)``; refusals are one line each
(an ``ArticleError`` one per refused item), exit 2, said by the app's error boundary.
(No ``from __future__ import annotations``: typer reads the option types of these nested
functions at registration, so they must be real objects, not names to resolve.)
"""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from roleguide.app.cli.common import ChromaOpt, CorpusOpt, HomeOpt, fail, open_guide
from roleguide.app.cli.output import err, out

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the commands to ``app`` (passed in, so that ``python -m roleguide`` registers
    on the app it runs)."""

    def add(
        items: Annotated[
            list[str], typer.Argument(help="Files (.md .txt .html .pdf) or http(s) URLs.")
        ],
        name: Annotated[
            str | None, typer.Option(help="File name for the article (default: from its title).")
        ] = None,
        corpus: CorpusOpt = None,
        home: HomeOpt = None,
        chroma_url: ChromaOpt = None,
    ) -> None:
        """Add articles to the corpus and index them; prints the roles found in each."""
        from roleguide.config import resolve_settings
        from roleguide.ingest.library import add_articles, prepare_articles

        corpus_dir = resolve_settings(corpus_dir=corpus).corpus_dir
        with err.status("Reading…"):
            prepared = prepare_articles(items, corpus_dir, name=name)  # before touching the index
        guide = open_guide(corpus, home, chroma_url)
        with err.status("Indexing…"):
            result = add_articles(guide, prepared)
        for a in result.articles:
            roles = ", ".join(a.roles) or "none recognised"
            out.print(f"Added [bold]{escape(a.source)}[/] — {escape(a.title)} ({a.chunks} chunks)")
            out.print(f"  roles found: {escape(roles)}")
        out.print(f"[dim]{result.chunks_added} chunks indexed in {result.seconds:.1f} s[/]")

    def remove(
        name: Annotated[str, typer.Argument(help="File name (see `roleguide sources`) or title.")],
        corpus: CorpusOpt = None,
        home: HomeOpt = None,
        chroma_url: ChromaOpt = None,
    ) -> None:
        """Remove an article from the corpus folder and its passages from the index."""
        from roleguide.config import resolve_settings
        from roleguide.ingest.library import find_article

        find_article(resolve_settings(corpus_dir=corpus).corpus_dir, name)  # before the index
        result = open_guide(corpus, home, chroma_url).remove(name)
        out.print(
            f"Removed [bold]{escape(result.article.source)}[/] — {escape(result.article.title)} "
            f"({result.chunks_removed} chunks)"
        )

    def sources(
        json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        corpus: CorpusOpt = None,
        home: HomeOpt = None,
        chroma_url: ChromaOpt = None,
    ) -> None:
        """List the articles: title, file, where each came from, roles, chunks, date added."""
        from rich.table import Table

        found = open_guide(corpus, home, chroma_url).sources()
        if json_output:
            sys.stdout.write(json.dumps([a.model_dump() for a in found], indent=2) + "\n")
            return
        grid = Table("article", "file", "source", "roles", "chunks", "added")
        for a in found:
            grid.add_row(
                a.title, a.source, a.origin or "—", ", ".join(a.roles) or "—", str(a.chunks),
                a.added[:10] or "—",
            )  # fmt: skip
        out.print(grid)

    def gaps(
        since: Annotated[
            str | None, typer.Option(help="Only questions since a date (2026-11-01) or age (7d).")
        ] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        markdown: Annotated[
            bool, typer.Option("--markdown", help="Print a Markdown table.")
        ] = False,
        export: Annotated[
            Path | None,
            typer.Option(help="Write the groups as a draft question set (evals/ schema)."),
        ] = None,
        corpus: CorpusOpt = None,
        home: HomeOpt = None,
        chroma_url: ChromaOpt = None,
    ) -> None:
        """Questions the articles don't cover (abstained or 👎), grouped by meaning."""
        from roleguide.feedback.gaps import parse_since, write_draft

        parse_since(since)  # a malformed --since is refused before the model loads
        report = open_guide(corpus, home, chroma_url).gaps(since)
        if export is not None:
            try:
                n = write_draft(report, export)
            except OSError as e:
                raise fail(f"cannot write {export} ({e})") from None
            err.print(f"{n} draft cases written to {export}; fill in sources and evidence")
        if json_output:
            sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        elif markdown:
            sys.stdout.write(report.to_markdown() + "\n")
        elif not report.groups:
            out.print(
                "No unanswered or thumbed-down questions logged"
                + (" since then." if since else ".")
            )
        else:
            out.print(f"[dim]{report.questions} questions in {len(report.groups)} groups[/]")
            for g in report.groups:
                out.print(f"{g.count:>4}  {escape(g.example)}")

    for command in (add, remove, sources, gaps):
        app.command()(command)
