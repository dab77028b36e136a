"""Run a question set through ``RoleGuide`` and check every answer against its case."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from roleguide.evaluation.retrieval_metrics import normalized
from roleguide.evaluation.schema import QuestionSet, Turn
from roleguide.ingest.corpus import load_document
from roleguide.models import Answer

if TYPE_CHECKING:
    from roleguide.api import RoleGuide
    from roleguide.ask.conversation import Message

__all__ = ["TurnResult", "answer_metrics", "check_answer", "lead_sentence", "run_answers"]


def lead_sentence(text: str) -> str:
    """The answer's first sentence: everything up to and including its first ``[n]`` marker."""
    match = re.search(r"\[\d+\]", text)
    return text[: match.end()] if match else re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]


@dataclass
class TurnResult:
    """One question of a case, what came back, and what fell short."""

    case_id: str
    turn: int
    turn_type: str
    question: str
    answer: Answer
    latency_ms: float
    failures: list[str] = field(default_factory=list)
    role_ok: bool | None = None
    evidence_ok: bool | None = None
    required_found: int = 0
    required_total: int = 0
    verbatim_ok: bool = True

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def label(self) -> str:
        return self.case_id if self.turn == 0 else f"{self.case_id}#{self.turn + 1}"


@lru_cache(maxsize=256)
def _source_text(corpus_dir: str, source: str) -> str | None:
    try:
        return load_document(Path(corpus_dir) / source, source).text
    except (OSError, ValueError):
        return None


def check_answer(turn: Turn, answer: Answer, corpus_dir: Path) -> dict:
    """What a turn's answer got right and wrong; pure, so it is tested on its own."""
    failures: list[str] = []
    verbatim = all(
        (_source_text(str(corpus_dir), c.source) or "")[c.start : c.end] == c.quote
        for c in answer.citations
    )
    # the answer's own markers: a "[1]" quoted from an article is its text, not a marker
    markers = {n for _, _, n in answer.markers} or {
        int(n) for n in re.findall(r"\[(\d+)\]", answer.text)
    }
    if markers - {c.number for c in answer.citations}:
        verbatim = False
    if not verbatim:
        failures.append("a citation is not verbatim at its span, or a marker has no citation")
    out = {"role_ok": None, "evidence_ok": None, "required_found": 0, "required_total": 0}
    if turn.abstain:
        if not answer.abstained:
            failures.append("answered an out-of-scope question (should abstain)")
        elif answer.citations:
            failures.append("abstained but still presents citations as support")
        return {**out, "failures": failures, "verbatim_ok": verbatim}
    if answer.abstained:
        failures.append("abstained on an answerable question")
    first = answer.citations[0].quote if answer.citations else ""
    out["evidence_ok"] = any(normalized(e) in normalized(first) for e in turn.evidence)
    if not answer.abstained and not out["evidence_ok"]:
        failures.append(f"citation [1] lacks the evidence ({turn.evidence[0]!r})")
    if turn.role:
        out["role_ok"] = normalized(turn.role) in normalized(lead_sentence(answer.text))
        if not out["role_ok"]:
            failures.append(f"first sentence does not name the {turn.role}")
    found = [r for r in turn.required if normalized(r) in normalized(answer.text)]
    out["required_found"], out["required_total"] = len(found), len(turn.required)
    for r in turn.required:
        if r not in found:
            failures.append(f"answer lacks the required phrase {r!r}")
    if turn.expect_query and normalized(turn.expect_query) not in normalized(answer.query):
        failures.append(
            f"follow-up not resolved: query {answer.query!r} lacks {turn.expect_query!r}"
        )
    return {**out, "failures": failures, "verbatim_ok": verbatim}


def run_answers(guide: RoleGuide, question_set: QuestionSet) -> list[TurnResult]:
    """Ask every case (conversations turn by turn, with their history) and check the answers."""
    results = []
    for case in question_set.cases:
        history: list[Message] = []
        for i, turn in enumerate(case.as_turns()):
            answer = guide.ask(turn.question, history, record=False)  # not a user question
            checked = check_answer(turn, answer, guide.settings.corpus_dir)
            results.append(
                TurnResult(
                    case_id=case.id,
                    turn=i,
                    turn_type=turn.type,
                    question=turn.question,
                    answer=answer,
                    latency_ms=answer.seconds * 1000,
                    **checked,
                )
            )
            history.extend(
                [
                    {"role": "user", "content": turn.question},
                    {"role": "assistant", "content": answer.text},
                ]
            )
    return results


def _rate(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def answer_metrics(results: list[TurnResult]) -> dict:
    """Pass rate and the answer checks, over all turns of a run."""
    answerable = [r for r in results if r.turn_type != "out_of_scope"]
    out_of_scope = [r for r in results if r.turn_type == "out_of_scope"]
    abstained = [r for r in results if r.answer.abstained]
    latencies = [r.latency_ms for r in results]
    required_total = sum(r.required_total for r in results)
    return {
        "questions": len(results),
        "pass_rate": _rate([r.passed for r in results]),
        "lead_role_accuracy": _rate([bool(r.role_ok) for r in results if r.role_ok is not None]),
        "required_phrase_recall": (
            round(sum(r.required_found for r in results) / required_total, 4)
            if required_total
            else None
        ),
        "evidence_in_citation_1": _rate([bool(r.evidence_ok) for r in answerable]),
        "citations_verbatim": _rate([r.verbatim_ok for r in results]),
        "abstention_precision": _rate([r.turn_type == "out_of_scope" for r in abstained]),
        "abstention_recall": _rate([r.answer.abstained for r in out_of_scope]),
        "false_abstentions": sum(1 for r in answerable if r.answer.abstained),
        "followup_success": _rate([r.passed for r in results if r.turn > 0]),
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p95_ms": round(_percentile(latencies, 0.95), 1) if latencies else None,
    }
