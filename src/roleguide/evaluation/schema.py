"""Question sets: the YAML schema (documented in evals/README.md) and its validation.

A set is a list of cases; a case is one question, or a conversation of several turns.
Invalid sets raise ``QuestionSetError`` naming the case and the field to fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from roleguide.errors import RoleGuideError

__all__ = ["SPLITS", "Case", "QuestionSet", "QuestionSetError", "Turn", "load_question_set"]

TurnType = Literal["who", "fact", "paraphrase", "comparison", "out_of_scope"]
SPLITS = ("dev", "test")
"""A case's part of the set: tune on ``dev``, judge on ``test`` (drawn, not picked)."""


class QuestionSetError(RoleGuideError, ValueError):
    """A question set that cannot be used; the message names the case and the field."""


class Turn(BaseModel):
    """One question and what a good answer to it must show."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str = Field(min_length=1)
    type: TurnType = "fact"
    role: str | None = None
    """for "who" questions: the role the answer's first sentence must name"""
    sources: tuple[str, ...] = ()
    """file names under the corpus folder that answer it"""
    evidence: tuple[str, ...] = ()
    """verbatim span(s) of a source that answer it; citation [1] must contain one"""
    required: tuple[str, ...] = ()
    """phrases the answer text must contain (case-insensitive)"""
    expect_query: str | None = None
    """for follow-ups: text the effective query must contain (the carried-over role)"""

    @field_validator("evidence", "required", "sources", mode="before")
    @classmethod
    def _listify(cls, value):
        return [value] if isinstance(value, str) else value

    @property
    def abstain(self) -> bool:
        return self.type == "out_of_scope"

    @model_validator(mode="after")
    def _consistent(self) -> Turn:
        if self.abstain:
            if self.evidence or self.role:
                raise ValueError("type: out_of_scope questions take no evidence or role")
        else:
            if not self.evidence:
                raise ValueError("evidence: required for answerable questions")
            if not self.sources:
                raise ValueError("sources: required for answerable questions")
        if self.type == "who" and not self.role:
            raise ValueError("role: required for 'who' questions")
        return self


class Case(BaseModel):
    """A question (``question`` + fields of ``Turn``) or a conversation (``turns``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    type: TurnType | Literal["conversation"] = "fact"
    split: Literal["dev", "test"] | None = None
    question: str | None = None
    role: str | None = None
    sources: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    turns: tuple[Turn, ...] = ()

    @field_validator("evidence", "required", "sources", mode="before")
    @classmethod
    def _listify(cls, value):
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _shape(self) -> Case:
        if self.type == "conversation":
            if len(self.turns) < 2 or self.question is not None:
                raise ValueError("turns: a conversation needs two or more turns and no question")
        elif self.turns:
            raise ValueError("turns: only conversations have turns (set type: conversation)")
        elif self.question is None:
            raise ValueError("question: required")
        else:
            try:
                self.as_turns()
            except ValidationError as e:
                raise ValueError(e.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return self

    def as_turns(self) -> tuple[Turn, ...]:
        if self.type == "conversation":
            return self.turns
        return (
            Turn(
                question=self.question or "",
                type=self.type,  # type: ignore[arg-type]
                role=self.role,
                sources=self.sources,
                evidence=self.evidence,
                required=self.required,
            ),
        )


class QuestionSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    cases: tuple[Case, ...]
    path: str = ""

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits its cases use, in ``SPLITS`` order (empty for a set without splits)."""
        used = {c.split for c in self.cases}
        return tuple(s for s in SPLITS if s in used)

    def select(self, split: str) -> QuestionSet:
        """The cases of one split (``all``: every case)."""
        if split == "all":
            return self
        if split not in SPLITS:
            raise QuestionSetError(f"unknown split {split!r}; choose dev, test or all")
        if split not in self.splits:
            raise QuestionSetError(f"{self.path}: no case has split: {split}")
        return self.model_copy(update={"cases": tuple(c for c in self.cases if c.split == split)})


def _where(case: object, index: int) -> str:
    if isinstance(case, dict) and case.get("id"):
        return f"case {case['id']!r} (#{index + 1})"
    return f"case #{index + 1}"


def load_question_set(path: str | Path, corpus_dir: str | Path | None = None) -> QuestionSet:
    """Read and validate a question set; with ``corpus_dir``, check sources and evidence too."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuestionSetError(f"{path}: no such question set") from None
    except yaml.YAMLError as e:
        raise QuestionSetError(f"{path}: not valid YAML ({e})") from e
    if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
        raise QuestionSetError(f"{path}: expected a mapping with a 'cases' list")
    cases, seen = [], set()
    for i, item in enumerate(raw["cases"]):
        try:
            case = Case.model_validate(item)
        except ValidationError as e:
            first = e.errors()[0]
            message = first["msg"].removeprefix("Value error, ")
            loc = [str(p) for p in first["loc"]]
            named = re.match(r"^(\w+): (.*)$", message)
            if named:  # model-level checks say which field they are about
                loc.append(named.group(1))
                message = named.group(2)
            field = ".".join(loc) or "case"
            raise QuestionSetError(f"{path}: {_where(item, i)}: field {field!r}: {message}") from e
        if case.id in seen:
            raise QuestionSetError(f"{path}: {_where(item, i)}: field 'id': duplicate id")
        seen.add(case.id)
        if corpus_dir is not None:
            _check_against_corpus(path, case, i, Path(corpus_dir))
        cases.append(case)
    return QuestionSet(version=raw.get("version", 1), cases=tuple(cases), path=str(path))


def _check_against_corpus(path: Path, case: Case, index: int, corpus_dir: Path) -> None:
    where = f"{path}: case {case.id!r} (#{index + 1})"
    for turn in case.as_turns():
        texts = []
        for source in turn.sources:
            file = corpus_dir / source
            if not file.is_file():
                raise QuestionSetError(
                    f"{where}: field 'sources': no file {source!r} in {corpus_dir}"
                )
            texts.append(" ".join(file.read_text(encoding="utf-8", errors="replace").split()))
        for phrase in turn.evidence:
            wanted = " ".join(phrase.split())
            if not any(wanted in text for text in texts):
                raise QuestionSetError(
                    f"{where}: field 'evidence': {phrase!r} is not in any of its sources"
                )
