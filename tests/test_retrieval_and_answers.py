"""Retrieval and extractive answers on the real corpus, with the real model and real Chroma."""

from __future__ import annotations

import json
import re

import pytest
from langchain_core.documents import Document
from pydantic import ValidationError

from roleguide import Answer, InvalidQuestionError
from roleguide.ask.retrieval import reciprocal_rank_fusion

OLM = "operations-manager-vs-logistics-manager.md"
OPM = "operations-manager-vs-procurement-manager.md"
GUIDE = "operations-vs-logistics-guide.md"
LOM = "logistics-vs-operations-management.md"


def test_rrf_matches_the_formula():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60)
    assert fused == pytest.approx({"a": 1 / 61 + 1 / 62, "b": 1 / 62, "c": 1 / 63 + 1 / 61})


@pytest.mark.parametrize(
    ("question", "source", "section"),
    [
        ("Who handles customs compliance?", OLM, "Regulatory Compliance"),
        ("What degree do logistics managers have?", OLM, "Educational Requirements"),
        ("Who negotiates contracts with suppliers?", OPM, "Vendor Relationship"),
        ("Which KPIs are used to evaluate an operations manager?", OLM, "Performance Metrics"),
        ("What software do procurement managers use?", OPM, "Technology Utilization"),
        ("Who deals with transportation delays?", OLM, "Crisis Management"),
        ("Is logistics a segment under operations management?", LOM, "Key difference"),
    ],
)
def test_retriever_puts_the_answering_chunk_first(guide, question, source, section):
    docs = guide.retriever.invoke(question)
    assert all(isinstance(d, Document) for d in docs) and len(docs) == guide.settings.top_k
    assert (docs[0].metadata["source"], docs[0].metadata["section"]) == (source, section)


def test_the_langchain_retriever_runs_the_search_ask_runs(guide):
    question = "Who negotiates contracts with suppliers?"
    searched = [h.chunk.id for h in guide.retrieval.search(question)]
    assert [d.id for d in guide.retriever.invoke(question)] == searched
    assert [d.id for d in guide.retriever.invoke(question, k=2)] == searched[:2]
    assert guide.retriever is guide.retriever  # made once, on first use


def test_an_unknown_mode_or_k_is_refused_by_name(guide):
    from roleguide.ask.retrieval import HybridSearch

    with pytest.raises(ValueError, match="unknown retrieval mode 'Dense'; choose hybrid"):
        HybridSearch(guide.index, mode="Dense")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be at least 1, not 0"):
        HybridSearch(guide.index, k=0)
    with pytest.raises(ValueError, match="unknown retrieval mode 'baseline'"):
        guide.with_retriever("baseline")  # type: ignore[arg-type]


def test_the_retriever_is_still_importable_from_retrieval():
    from roleguide.ask import langchain_retriever, retrieval

    assert retrieval.HybridRetriever is langchain_retriever.HybridRetriever


def test_dense_and_bm25_modes_work_alone(guide):
    from roleguide.ask.langchain_retriever import HybridRetriever

    for mode in ("dense", "bm25"):
        retriever = HybridRetriever(index=guide.index, k=3, mode=mode)
        top = retriever.invoke("Who negotiates contracts with suppliers?")[0]
        assert top.metadata["section"] == "Vendor Relationship"


def lead_sentence(answer: Answer) -> str:
    return re.split(r"(?<=[.!?])”?\s+(?=\[\d+\])", answer.text)[0]


@pytest.mark.parametrize(
    ("question", "role", "evidence"),
    [
        ("Who handles customs compliance?", "Logistics Manager", "customs and import/export laws"),
        ("Who negotiates contracts with suppliers?", "Procurement Manager", "negotiate contracts"),
        ("Who manages a larger budget?", "Operations Manager", "control over a larger budget"),
        ("Whose job is it to get good deals from suppliers?", "Procurement Manager", "suppliers"),
        (
            "Who is responsible for quality control of finished products?",
            "Operations Manager",
            "meet certain quality standards",
        ),
        (
            "Who deals with crises like transportation delays?",
            "Logistics Manager",
            "transportation delays",
        ),
    ],
)
def test_who_questions_name_the_role_first(guide, question, role, evidence):
    answer = guide.ask(question)
    assert not answer.abstained
    assert role in lead_sentence(answer)
    assert answer.lead_role == role
    assert evidence in answer.citations[0].quote


@pytest.mark.parametrize(
    ("question", "evidence"),
    [
        (
            "What degree do logistics managers have?",
            "degrees in logistics, supply chain management",
        ),
        (
            "Does a logistics manager report to the operations manager?",
            "may report to the Operations",
        ),
        ("Where does a procurement manager's career lead?", "Chief Procurement Officer (CPO)"),
        ("What is logistics?", "point of origin to the point of consumption"),
        ("What skills does a purchasing manager need?", "negotiation, contract law"),
    ],
)
def test_factual_answers_cite_the_answering_sentence_first(guide, question, evidence):
    answer = guide.ask(question)
    assert not answer.abstained
    assert evidence in answer.citations[0].quote


def test_every_marker_points_at_a_verbatim_quote(guide, corpus_dir):
    answer = guide.ask("Who handles customs compliance?")
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert markers and sorted(set(markers)) == [c.number for c in answer.citations]
    assert markers[0] == 1, "citations are numbered in order of first use"
    for c in answer.citations:
        source = (corpus_dir / c.source).read_text("utf-8")
        assert source[c.start : c.end] == c.quote
        assert source[c.passage_start : c.passage_start + len(c.passage)] == c.passage
        assert c.quote in c.passage and len(c.quote.split()) <= 60
        assert 0 <= c.score <= 1 and c.title and c.section
    assert f"“{answer.citations[0].quote}” [1]" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "What is the salary of a logistics manager in Germany?",
        "How do I bake sourdough bread?",
        "Who is the CEO of Amazon?",
        "What does a fleet manager do?",
        "What degree do procurement managers have?",
    ],
)
def test_out_of_scope_questions_abstain(guide, question):
    answer = guide.ask(question)
    assert answer.abstained
    assert answer.citations == ()
    assert answer.text.startswith("The articles don't cover this")
    assert not re.search(r"\[\d+\]", answer.text)
    assert len(answer.related) >= 1  # related reading, shown as such


def test_followups_use_the_conversation(guide):
    first = guide.ask("Who handles customs compliance?")
    history = [
        {"role": "user", "content": "Who handles customs compliance?"},
        {"role": "assistant", "content": first.text},
    ]
    second = guide.ask("And what degree do they usually have?", history)
    assert "Logistics Manager" in second.query
    assert "degrees in logistics" in second.citations[0].quote
    history += [
        {"role": "user", "content": "And what degree do they usually have?"},
        {"role": "assistant", "content": second.text},
    ]
    third = guide.ask("Where can that career lead?", history)
    assert "Logistics Manager" in third.query
    assert third.abstained, "the articles give career paths only for the other two roles"


def test_answers_are_immutable_and_json_serialisable(guide):
    answer = guide.ask("What software do procurement managers use?")
    data = json.loads(answer.model_dump_json())
    assert Answer.model_validate(data) == answer
    assert set(data) >= {"text", "citations", "abstained", "query"}
    with pytest.raises(ValidationError, match="Instance is frozen"):
        answer.text = "changed"
    assert answer.text != "changed"


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_bad_questions_raise_value_error(guide, question):
    with pytest.raises(ValueError):
        guide.ask(question)
    with pytest.raises(InvalidQuestionError):
        guide.ask(question)


def test_bad_history_is_refused(guide):
    with pytest.raises(ValueError, match="history"):
        guide.ask("Who buys?", history=[{"role": "robot", "content": "hi"}])
