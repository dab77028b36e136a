"""IR metrics with ranx: hit@1, hit@3, MRR, nDCG@5 for each retriever on a question set.

A retrieved passage is relevant when it contains one of the case's evidence spans
(white space and case ignored). Relevance is judged against every passage of the
retriever's own index, so nDCG's ideal ranking is exact for each retriever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from roleguide.ask.conversation import Message
from roleguide.evaluation.schema import QuestionSet

__all__ = ["METRICS", "normalized", "relevant_ids", "retrieval_metrics", "retrieval_queries"]

METRICS = ("hit_rate@1", "hit_rate@3", "mrr", "ndcg@5")
NAMES = {"hit_rate@1": "hit@1", "hit_rate@3": "hit@3", "mrr": "mrr", "ndcg@5": "ndcg@5"}

Search = Callable[[str, list[Message]], list[tuple[str, str, float]]]
"""(question, history) -> [(passage id, passage text, score)], best first"""


def normalized(text: str) -> str:
    """``text`` case-folded with its white space collapsed: how answers and passages are
    matched against a case's evidence, here and in the answer checks."""
    return " ".join(text.casefold().split())


def relevant_ids(evidence: Iterable[str], passages: dict[str, str]) -> set[str]:
    """Ids of the passages that contain any evidence span."""
    wanted = [normalized(e) for e in evidence]
    return {pid for pid, text in passages.items() if any(w in normalized(text) for w in wanted)}


def retrieval_queries(
    question_set: QuestionSet,
) -> list[tuple[str, str, list[Message], tuple[str, ...]]]:
    """(query id, question, history, evidence) for every answerable turn, in order.

    Follow-up turns carry the conversation's earlier questions as history, so the
    retriever is judged on the query it would really search.
    """
    out = []
    for case in question_set.cases:
        history: list[Message] = []
        for i, turn in enumerate(case.as_turns()):
            if not turn.abstain:
                out.append((f"{case.id}#{i + 1}", turn.question, list(history), turn.evidence))
            history.extend(
                [
                    {"role": "user", "content": turn.question},
                    {"role": "assistant", "content": ""},
                ]
            )
    return out


def retrieval_metrics(
    question_set: QuestionSet, search: Search, passages: dict[str, str]
) -> dict[str, float]:
    """ranx metrics of ``search`` on the answerable turns of ``question_set``."""
    from ranx import Qrels, Run, evaluate

    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for qid, question, history, evidence in retrieval_queries(question_set):
        relevant = relevant_ids(evidence, passages)
        if not relevant:
            continue  # evidence not in this index at all: judged by answer metrics instead
        qrels[qid] = dict.fromkeys(relevant, 1)
        hits = search(question, history)
        # ranx wants strictly ordered scores; rank order is what counts.
        run[qid] = {pid: float(len(hits) - rank) for rank, (pid, _, _) in enumerate(hits)}
        if not run[qid]:
            run[qid] = {"__none__": 0.0}
    if not qrels:
        return {NAMES[m]: 0.0 for m in METRICS}
    scores = evaluate(Qrels(qrels), Run(run), list(METRICS), make_comparable=True)
    assert isinstance(scores, dict)  # several metrics asked: one score per metric
    return {NAMES[m]: round(float(scores[m]), 4) for m in METRICS}
