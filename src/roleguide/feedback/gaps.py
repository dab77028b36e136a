"""``roleguide gaps``: the questions the articles don't cover, grouped by meaning.

Questions abstained on or thumbed down are embedded with the bundled model, the corpus's
mean direction is taken out of each vector (every question is "about these careers";
what tells two gaps apart is the rest), and they are grouped by average-linkage
clustering over cosine similarity, stopping when the closest two groups are less alike
than ``GAP_THRESHOLD``; the biggest groups come first. A report can be written as a
draft question set in the schema of ``evals/``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from roleguide.errors import RoleGuideError
from roleguide.feedback.log import QuestionLog
from roleguide.models import GapGroup, GapReport
from roleguide.store.embeddings import embed_texts

__all__ = [
    "GAP_THRESHOLD",
    "MAX_GAP_QUESTIONS",
    "cluster",
    "domain_vector",
    "gap_report",
    "parse_since",
    "question_vectors",
    "write_draft",
]

GAP_THRESHOLD = 0.35
"""Calibrated on tests/data/gaps_dev.yaml (5 kinds), checked on gaps_test.yaml
(benchmarks/calibrate_gaps.py; figures in the README)."""
MAX_GAP_QUESTIONS = 1000  # the most recent distinct questions; clustering is O(n^2) per merge
DOMAIN_SAMPLE = 5000  # chunk vectors averaged for the corpus's mean direction


def domain_vector(index) -> np.ndarray | None:
    """The mean of (up to ``DOMAIN_SAMPLE``) chunk vectors of the index: what the corpus
    is about as a whole. ``None`` for an empty index."""
    vectors = np.asarray(index.chunk_vectors(DOMAIN_SAMPLE), dtype=np.float64)
    return vectors.mean(axis=0) if len(vectors) else None


def question_vectors(
    embeddings: Embeddings, questions: Sequence[str], domain: np.ndarray | None
) -> np.ndarray:
    """Unit vectors of the questions with the corpus's mean direction subtracted."""
    vectors = np.asarray(embed_texts(embeddings, questions), dtype=np.float64)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    if domain is not None:
        vectors = vectors - domain
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def parse_since(value: str | None) -> str | None:
    """``7d``, ``12h``, ``2026-11-01`` or an ISO time → the log's UTC timestamp format."""
    if not value:
        return None
    value = value.strip()
    relative = re.fullmatch(r"(\d+)\s*([dhw])", value.lower())
    if relative:
        n, unit = int(relative.group(1)), relative.group(2)
        delta = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
        moment = datetime.now(UTC) - delta
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise RoleGuideError(
                f"--since {value!r}: give a date (2026-11-01), a time (2026-11-01T09:00) "
                "or an age (7d, 12h, 2w)"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key(question: str) -> str:
    return " ".join(re.findall(r"\w+", question.lower()))


def cluster(vectors: np.ndarray, weights: Sequence[int], threshold: float) -> list[list[int]]:
    """Average-linkage clusters of unit ``vectors`` (rows), each row weighted by its count."""
    n = len(vectors)
    if n == 0:
        return []
    sim = (vectors @ vectors.T).astype(np.float64)
    np.fill_diagonal(sim, -np.inf)
    size = np.asarray(weights, dtype=np.float64)
    members = {i: [i] for i in range(n)}
    while len(members) > 1:
        flat = int(np.argmax(sim))
        i, j = divmod(flat, n)
        if sim[i, j] < threshold:
            break
        # Lance-Williams update: the average similarity of the merged group to every other.
        merged = (size[i] * sim[i] + size[j] * sim[j]) / (size[i] + size[j])
        sim[i], sim[:, i] = merged, merged
        sim[i, i] = -np.inf
        sim[j], sim[:, j] = -np.inf, -np.inf
        size[i] += size[j]
        members[i] += members.pop(j)
    return list(members.values())


def gap_report(
    log: QuestionLog,
    embeddings: Embeddings,
    *,
    domain: np.ndarray | None = None,
    since: str | None = None,
    threshold: float = GAP_THRESHOLD,
) -> GapReport:
    """Group the unanswered and thumbed-down questions of ``log`` by meaning."""
    since_ts = parse_since(since)
    rows = log.unanswered(since_ts)
    distinct: dict[str, dict] = {}
    for row in reversed(rows):  # newest first, so the cap keeps the most recent
        key = _key(row.question)
        if not key:
            continue
        entry = distinct.get(key)
        if entry is None:
            if len(distinct) >= MAX_GAP_QUESTIONS:
                continue
            entry = distinct[key] = {"text": row.question, "n": 0, "abst": 0, "down": 0, "at": ""}
        entry["n"] += 1
        entry["abst"] += row.abstained
        entry["down"] += row.thumbs_down
        entry["at"] = max(entry["at"], row.asked_at)
    entries = list(distinct.values())
    groups: list[GapGroup] = []
    if entries:
        vectors = question_vectors(embeddings, [e["text"] for e in entries], domain)
        weights = [e["n"] for e in entries]
        for idx in cluster(vectors, weights, threshold):
            centre = np.average(vectors[idx], axis=0, weights=[weights[i] for i in idx])
            best = idx[int(np.argmax(vectors[idx] @ centre))]
            ordered = sorted(idx, key=lambda i: -weights[i])
            groups.append(
                GapGroup(
                    count=sum(weights[i] for i in idx),
                    example=entries[best]["text"],
                    questions=tuple(entries[i]["text"] for i in ordered),
                    abstained=sum(entries[i]["abst"] for i in idx),
                    thumbs_down=sum(entries[i]["down"] for i in idx),
                    last_asked=max(entries[i]["at"] for i in idx)[:16].replace("T", " "),
                )
            )
    groups.sort(key=lambda g: (-g.count, g.example))
    return GapReport(
        since=since_ts,
        questions=sum(e["n"] for e in entries),
        groups=tuple(groups),
        threshold=threshold,
    )


def write_draft(report: GapReport, path: Path) -> int:
    """Write the groups as a draft question set (evals/ schema); returns the case count.

    Sources and evidence are left empty for a maintainer to fill once an article covers
    the question; until then ``roleguide eval`` names the first case still to complete.
    """
    import yaml

    cases = []
    used: set[str] = set()
    for i, group in enumerate(report.groups, start=1):
        slug = "-".join(re.findall(r"[a-z0-9]+", group.example.lower())[:6]) or "question"
        case_id = f"gap-{i:02d}-{slug}"
        while case_id in used:
            case_id += "-x"
        used.add(case_id)
        cases.append(
            {
                "id": case_id,
                "question": group.example,
                "type": "fact",
                "sources": [],
                "evidence": [],
            }
        )
    header = (
        "# Draft question set written by `roleguide gaps --export`.\n"
        "# For each case: once an article answers it, fill in `sources` (its file name),\n"
        "# `evidence` (a verbatim span of it) and, for who-questions, `type: who` + `role`;\n"
        "# or set `type: out_of_scope` if roleguide should keep declining it.\n"
    )
    notes = "".join(
        f"# gap-{i:02d}: asked {g.count}x, e.g. "
        + "; ".join(" ".join(q.split()) for q in g.questions[:3])
        + "\n"
        for i, g in enumerate(report.groups, start=1)
    )
    body = yaml.safe_dump({"version": 1, "cases": cases}, sort_keys=False, allow_unicode=True)
    path.write_text(header + notes + body, encoding="utf-8")
    return len(cases)
