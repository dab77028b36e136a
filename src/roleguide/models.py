"""Typed, immutable, JSON-serialisable results: ``Answer`` and ``Citation``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AddResult",
    "Answer",
    "ArticleInfo",
    "Cell",
    "Citation",
    "Comparison",
    "FacetRow",
    "GapGroup",
    "GapReport",
    "InterestHit",
    "MatchResult",
    "ProfileSection",
    "RemoveResult",
    "RoleInfo",
    "RoleMatch",
    "RoleProfile",
]


class Citation(BaseModel):
    """One passage an answer rests on: a verbatim quote and where it stands in its article.

    ``quote == Path(corpus_dir, source).read_text()[start:end]`` for Markdown and text
    files (for HTML files the span is in the page's extracted text).
    """

    model_config = ConfigDict(frozen=True)

    number: int = Field(description="the n of the inline [n] marker")
    source: str = Field(description="file name under the corpus folder")
    title: str
    section: str
    quote: str = Field(description="verbatim text from the source file")
    start: int = Field(description="character offset of the quote in the source text")
    end: int
    score: float = Field(description="how strongly retrieval and the answerer rank it, 0..1")
    chunk_id: str
    passage: str = Field(description="the whole passage (paragraph) the quote comes from")
    passage_start: int


class Cell(BaseModel):
    """One role's entry in a comparison row: a cited quote, or nothing stated."""

    model_config = ConfigDict(frozen=True)

    role: str
    citation: Citation | None = None
    more: tuple[Citation, ...] = Field(
        default=(), description="further statements about the role under the same facet"
    )

    @property
    def quote(self) -> str | None:
        return self.citation.quote if self.citation else None

    @property
    def citations(self) -> tuple[Citation, ...]:
        """Every statement in the cell, the first one first."""
        return (self.citation, *self.more) if self.citation else ()


class FacetRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    facet: str
    cells: tuple[Cell, ...]

    @property
    def one_sided(self) -> bool:
        """Only one of the two roles has a statement under this facet."""
        return sum(c.citation is not None for c in self.cells) == 1


class Comparison(BaseModel):
    """Two roles side by side, one row per facet the articles cover for either."""

    model_config = ConfigDict(frozen=True)

    roles: tuple[str, str]
    rows: tuple[FacetRow, ...] = Field(
        description="facets both roles have first, then those only one of them has"
    )
    citations: tuple[Citation, ...]
    note: str = Field(default="", description="one line when there is nothing to compare")

    @property
    def shared(self) -> tuple[FacetRow, ...]:
        """Rows with a statement for both roles."""
        return tuple(r for r in self.rows if not r.one_sided)

    @property
    def folded(self) -> tuple[FacetRow, ...]:
        """Rows only one role (usually: one article) covers; shown on request."""
        return tuple(r for r in self.rows if r.one_sided)

    def to_markdown(self) -> str:
        """A Markdown table: each cell its quotes with their [n], or "not stated in the
        articles"; the note first when there is nothing to compare."""

        def cell(c: Cell) -> str:
            if c.citation is None:
                return "*not stated in the articles*"
            return "<br>".join(
                "“" + x.quote.replace("|", "\\|").replace("\n", " ") + f"” [{x.number}]"
                for x in c.citations
            )

        if not self.rows:
            return self.note
        lines = [
            *([self.note, ""] if self.note else []),
            f"| Facet | {self.roles[0]} | {self.roles[1]} |",
            "| --- | --- | --- |",
            *(f"| {r.facet} | " + " | ".join(cell(c) for c in r.cells) + " |" for r in self.rows),
        ]
        return "\n".join(lines)


class RoleInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    aliases: tuple[str, ...]
    passages: int = Field(description="passages (chunks) with a sentence about the role")
    sources: tuple[str, ...]


class ProfileSection(BaseModel):
    model_config = ConfigDict(frozen=True)

    facet: str
    citations: tuple[Citation, ...]


class RoleProfile(BaseModel):
    """Everything the corpus says about one role, grouped by facet."""

    model_config = ConfigDict(frozen=True)

    role: str
    sections: tuple[ProfileSection, ...]
    related: tuple[str, ...] = Field(
        default=(), description="roles an article compares with this one"
    )


class InterestHit(BaseModel):
    """One interest and the statement about the role that matched it best."""

    model_config = ConfigDict(frozen=True)

    interest: str
    citation: Citation | None = None
    similarity: float = 0.0
    matched: bool = False


class RoleMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: str
    score: float
    evidence: tuple[Citation, ...] = Field(description="the passages that justify the score")
    matched: int = Field(default=0, description="how many of the interests a statement matched")
    hits: tuple[InterestHit, ...] = Field(
        default=(), description="per interest, the statement that matched it (or none)"
    )
    summary: str = Field(default="", description='"3 of your 4 interests matched, strongest: …"')


class MatchResult(BaseModel):
    """Roles ranked by how well what the articles say of them matches the interests."""

    model_config = ConfigDict(frozen=True)

    interests: tuple[str, ...]
    matches: tuple[RoleMatch, ...]
    note: str = (
        "A pointer into the articles, not career advice: roles are ranked by how closely "
        "the articles' statements about them match what you wrote."
    )


class Answer(BaseModel):
    """What ``RoleGuide.ask`` returns.

    ``text`` starts with a one-sentence direct answer; every sentence ends with ``[n]``
    markers that point at ``citations[n-1]``. When the articles do not support an
    answer, ``abstained`` is true, ``citations`` is empty and ``related`` lists the
    closest passages as further reading (not as support).
    """

    model_config = ConfigDict(frozen=True)

    question: str
    query: str = Field(description="the effective query searched, after follow-up resolution")
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    related: tuple[Citation, ...] = ()
    lead_role: str | None = Field(default=None, description="the role the lead sentence names")
    comparison: Comparison | None = Field(
        default=None, description="for 'X vs Y' questions: the side-by-side table"
    )
    answerer: Literal["extractive", "llm"] = "extractive"
    notes: tuple[str, ...] = Field(
        default=(), description="what the user should know: dropped sentences, fallbacks"
    )
    markers: tuple[tuple[int, int, int], ...] = Field(
        default=(),
        description="(start, end, n) of each citation marker in ``text``; any other "
        "'[1]' there is the article's own text, quoted",
    )
    seconds: float = 0.0
    answer_id: str = Field(default="", description="key for ``RoleGuide.feedback``")


class ArticleInfo(BaseModel):
    """One article of the corpus as ``roleguide sources`` lists it."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="file name under the corpus folder")
    title: str
    origin: str = Field(default="", description="the URL or original file name it came from")
    added: str = Field(default="", description="when `roleguide add` wrote it (ISO 8601, UTC)")
    roles: tuple[str, ...] = ()
    chunks: int = 0


class AddResult(BaseModel):
    """What ``RoleGuide.add`` wrote and what the index found in it."""

    model_config = ConfigDict(frozen=True)

    articles: tuple[ArticleInfo, ...]
    chunks_added: int
    seconds: float


class RemoveResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    article: ArticleInfo
    chunks_removed: int


class GapGroup(BaseModel):
    """Questions that mean about the same thing and went unanswered or were thumbed down."""

    model_config = ConfigDict(frozen=True)

    count: int
    example: str = Field(description="the question nearest the group's centre")
    questions: tuple[str, ...]
    abstained: int = Field(description="how many of them the answerer abstained on")
    thumbs_down: int
    last_asked: str


class GapReport(BaseModel):
    """``roleguide gaps``: what users asked that the articles don't cover, biggest first."""

    model_config = ConfigDict(frozen=True)

    since: str | None
    questions: int
    groups: tuple[GapGroup, ...]
    threshold: float

    def to_markdown(self) -> str:
        lines = [
            f"# Questions the articles don't cover ({self.questions} questions, "
            f"{len(self.groups)} groups)",
            "",
            "| # | count | example | abstained | 👎 | last asked |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for i, g in enumerate(self.groups, start=1):
            example = g.example.replace("|", "\\|")
            lines.append(
                f"| {i} | {g.count} | {example} | {g.abstained} | {g.thumbs_down} | "
                f"{g.last_asked} |"
            )
        return "\n".join(lines)
