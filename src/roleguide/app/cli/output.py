"""How the CLI prints answers, sources, comparison tables (rich, all text escaped)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from roleguide.api import RoleGuide
    from roleguide.ask.conversation import Message
    from roleguide.models import Answer, Citation, Comparison

__all__ = ["err", "out", "print_answer", "print_comparison", "stream_answer"]

# emoji=False: quotes are printed verbatim ("root:x:0" must not become "root❌0").
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def stream_answer(
    guide: RoleGuide, question: str, history: Sequence[Message] | None = None
) -> Answer:
    """Print an answer as it arrives (verified sentence by sentence with an LLM); the
    final answer."""
    printed, final = "", None
    for partial in guide.ask_stream(question, history):
        final = partial
        if partial.answerer == "llm" and partial.text.startswith(printed):
            out.print(escape(partial.text[len(printed) :]), end="")
            printed = partial.text
    if printed:
        out.print()
    if final is not None and final.text != printed:
        if printed:
            out.print("[dim](replaced by the answer below)[/]")
        print_answer(final)
    elif final is not None:
        _print_sources(final)
    if final is None:  # ask_stream always yields the final answer last
        raise AssertionError("no answer streamed")
    return final


def _marked(answer: Answer) -> str:
    """The answer text, escaped, its own citation markers in colour (an article's "[1]"
    inside a quote stays plain text)."""
    parts, pos = [], 0
    for start, end, number in getattr(answer, "markers", ()):
        parts.append(escape(answer.text[pos:start]))
        parts.append(f"[bold cyan]\\[{number}][/]")
        pos = end
    parts.append(escape(answer.text[pos:]))
    return "".join(parts)


def _print_sources(answer: Answer) -> None:
    if answer.query != answer.question:
        out.print(f"[dim](searched for: {escape(answer.query)})[/]")
    for c in answer.citations:
        out.print(
            f"  [bold cyan][{c.number}][/] [bold]{escape(c.title)}[/] — {escape(c.section)}"
            f" [dim]({escape(c.source)}, chars {c.start}–{c.end})[/]"
        )
    for note in answer.notes:
        out.print(f"[yellow]Note:[/] {escape(note)}")


def print_answer(answer: Answer) -> None:
    if answer.comparison is not None:
        out.print(escape(answer.text.split("\n", 1)[0]))
        print_comparison(answer.comparison)
        return
    style = "yellow" if answer.abstained else "default"
    out.print(_marked(answer), style=style)
    _print_sources(answer)
    if answer.related:
        out.print("[dim]Related reading (not an answer):[/]")
        for c in answer.related:
            out.print(f"  • {escape(c.title)} — {escape(c.section)}: [dim]{escape(c.quote)}[/]")


def _citation_lines(citations: Iterable[Citation]) -> None:
    for c in citations:
        out.print(
            f"  [bold cyan][{c.number}][/] {escape(c.title)} — {escape(c.section)}"
            f" [dim]({escape(c.source)}, chars {c.start}–{c.end})[/]"
        )


def print_comparison(table: Comparison) -> None:
    """The comparison as a grid: facets both roles have, then (after a rule) those only
    one has; a pair with nothing to compare prints its one-line note first."""
    from rich.table import Table

    if table.note:
        out.print(escape(table.note))
    if not table.rows:
        return
    grid = Table(show_lines=True, expand=True)
    grid.add_column("Facet", style="bold", ratio=1, overflow="fold")
    for role in table.roles:
        grid.add_column(role, ratio=3)
    for i, row in enumerate(table.rows):
        if row.one_sided and (i == 0 or not table.rows[i - 1].one_sided) and i:
            grid.add_section()
        cells = [
            "\n".join(f"“{escape(x.quote)}” [cyan][{x.number}][/]" for x in c.citations)
            if c.citation
            else "[dim]not stated in the articles[/]"
            for c in row.cells
        ]
        grid.add_row(escape(row.facet), *cells)
    out.print(grid)
    _citation_lines(table.citations)
