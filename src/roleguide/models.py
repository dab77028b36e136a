"""Typed, immutable, JSON-serialisable results: ``Answer`` and ``Citation``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Answer", "Citation"]


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
    answerer: Literal["extractive"] = "extractive"
    seconds: float = 0.0
