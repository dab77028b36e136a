"""``evaluate``: run a question set against one or more retrievers, side by side.

>>> from roleguide.evaluation import evaluate                     # doctest: +SKIP
>>> report = evaluate("evals/questions.yaml", retrievers=["hybrid", "baseline"])  # doctest: +SKIP
>>> report.primary_answers["pass_rate"]                           # doctest: +SKIP
0.93
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from roleguide.evaluation.baseline import BaselineRetriever, build_baseline
from roleguide.evaluation.retrieval_metrics import Search, retrieval_metrics
from roleguide.evaluation.runner import TurnResult, answer_metrics, run_answers
from roleguide.evaluation.schema import load_question_set

if TYPE_CHECKING:
    from roleguide.api import RoleGuide
    from roleguide.ask.conversation import Message
    from roleguide.ask.retrieval import RetrieverMode

__all__ = ["RETRIEVERS", "EvalReport", "RetrieverResult", "evaluate"]

RETRIEVERS = ("dense", "bm25", "hybrid", "baseline")
"""``baseline`` is the tutorial pipeline: it retrieves, but has no answerer of its own."""


@dataclass
class RetrieverResult:
    name: str
    retrieval: dict[str, float]
    answers: dict | None = None
    results: list[TurnResult] = field(default_factory=list)
    seconds: float = 0.0
    by_split: dict[str, dict] = field(default_factory=dict)
    """per split of the set: {"dev": {"retrieval": {...}, "answers": {...} | None}, ...}"""


@dataclass
class EvalReport:
    question_set: str
    corpus: str
    created: str
    retrievers: dict[str, RetrieverResult]
    split: str = "all"
    """the part of the set that ran: all, dev or test"""

    @property
    def primary(self) -> RetrieverResult:
        """The row thresholds apply to: hybrid when it ran, else the first answering one."""
        if "hybrid" in self.retrievers:
            return self.retrievers["hybrid"]
        answering = [r for r in self.retrievers.values() if r.answers is not None]
        return answering[0] if answering else next(iter(self.retrievers.values()))

    @property
    def primary_answers(self) -> dict:
        return self.primary.answers or {}

    def to_dict(self) -> dict:
        def turn(r: TurnResult) -> dict:
            return {
                "id": r.label,
                "type": r.turn_type,
                "question": r.question,
                "query": r.answer.query,
                "passed": r.passed,
                "failures": r.failures,
                "abstained": r.answer.abstained,
                "answer": r.answer.text,
                "citation_1": r.answer.citations[0].quote if r.answer.citations else None,
                "latency_ms": round(r.latency_ms, 1),
            }

        return {
            "question_set": self.question_set,
            "corpus": self.corpus,
            "created": self.created,
            "primary": self.primary.name,
            "split": self.split,
            "retrievers": {
                name: {
                    "retrieval": r.retrieval,
                    "answers": r.answers,
                    "by_split": r.by_split,
                    "seconds": round(r.seconds, 2),
                    "cases": [turn(t) for t in r.results],
                }
                for name, r in self.retrievers.items()
            },
        }


def evaluate(
    question_set: str | Path,
    guide: RoleGuide | None = None,
    retrievers: Sequence[str] = ("hybrid",),
    split: str = "all",
) -> EvalReport:
    """Evaluate ``guide`` (default: ``RoleGuide()``) on a question set, per retriever.

    ``split`` runs only the ``dev`` or ``test`` cases; with ``all``, a set that has splits
    is also scored per split (``RetrieverResult.by_split``).
    """
    unknown = [r for r in retrievers if r not in RETRIEVERS]
    if unknown:
        raise ValueError(f"unknown retriever {unknown[0]!r}; choose from {', '.join(RETRIEVERS)}")
    if guide is None:
        from roleguide.api import RoleGuide

        guide = RoleGuide()
    corpus_dir = Path(guide.settings.corpus_dir)
    qset = load_question_set(question_set, corpus_dir).select(split)
    parts = {s: qset.select(s) for s in qset.splits} if split == "all" else {}
    split_of = {c.id: c.split for c in qset.cases}
    passages = {chunk.id: chunk.text for chunk in guide.index.iter_records()}
    for case in qset.cases[:3]:  # warm the index caches, so no row pays for the first query
        guide.with_retriever("hybrid").ask(case.as_turns()[0].question, record=False)
    out: dict[str, RetrieverResult] = {}
    for name in retrievers:
        began = time.perf_counter()
        if name == "baseline":
            base = build_baseline(corpus_dir, guide.index.embeddings, guide.settings.top_k)

            def search_baseline(
                question: str, history: list[Message], base: BaselineRetriever = base
            ) -> list[tuple[str, str, float]]:
                return [(d.id or "", d.page_content, 0.0) for d in base.search(question)]

            search: Search = search_baseline
            base_passages = {d.id or "": d.page_content for d in base.documents}
            result = RetrieverResult(name, retrieval_metrics(qset, search, base_passages))
            for part, sub in parts.items():
                result.by_split[part] = {
                    "retrieval": retrieval_metrics(sub, search, base_passages),
                    "answers": None,
                }
        else:
            variant = guide.with_retriever(cast("RetrieverMode", name))

            def search_variant(
                question: str, history: list[Message], variant: RoleGuide = variant
            ) -> list[tuple[str, str, float]]:
                query = variant.effective_query(question, history)
                hits = variant.retrieval.search(query, variant.query_vector(query))
                return [(h.chunk.id, h.chunk.text, h.score) for h in hits]

            search = search_variant
            results = run_answers(variant, qset)
            result = RetrieverResult(
                name, retrieval_metrics(qset, search, passages), answer_metrics(results), results
            )
            for part, sub in parts.items():
                result.by_split[part] = {
                    "retrieval": retrieval_metrics(sub, search, passages),
                    "answers": answer_metrics([r for r in results if split_of[r.case_id] == part]),
                }
        result.seconds = time.perf_counter() - began
        out[name] = result
    return EvalReport(
        question_set=str(question_set),
        corpus=str(corpus_dir),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        retrievers=out,
        split=split,
    )
