"""Calibrate ``roleguide.feedback.gaps.GAP_THRESHOLD`` on tests/data/gaps_dev.yaml and check it on
gaps_test.yaml: for each threshold, how many groups, and on what share of question pairs
the grouping agrees with the kinds (1.0: every kind is exactly one group).

    PYTHONPATH=src python benchmarks/calibrate_gaps.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import yaml

from roleguide import RoleGuide
from roleguide.feedback.gaps import GAP_THRESHOLD, cluster, domain_vector, question_vectors

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def load_kinds(name: str) -> tuple[list[str], list[str]]:
    """(kind of each question, questions) of a tests/data/gaps_*.yaml set."""
    kinds = yaml.safe_load((DATA / f"{name}.yaml").read_text())
    return [k for k, qs in kinds.items() for _ in qs], [q for qs in kinds.values() for q in qs]


def pair_agreement(truth: list[str], groups: list[list[int]]) -> float:
    """Share of question pairs on which the grouping agrees with the kinds (Rand index)."""
    label = {i: g for g, members in enumerate(groups) for i in members}
    pairs = [(i, j) for i in range(len(truth)) for j in range(i + 1, len(truth))]
    agree = sum((truth[i] == truth[j]) == (label[i] == label[j]) for i, j in pairs)
    return agree / len(pairs)


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        guide = RoleGuide(corpus_dir=ROOT / "corpus", home=home)
        domain = domain_vector(guide.index)
        sets = {}
        for name in ("gaps_dev", "gaps_test"):
            truth, texts = load_kinds(name)
            sets[name] = (truth, question_vectors(guide.index.embeddings, texts, domain))
    print("threshold  dev groups / agreement  test groups / agreement")
    exact = []
    for t in np.arange(0.20, 0.551, 0.025):
        row = [f"{t:9.3f}"]
        for name, (truth, vectors) in sets.items():
            groups = cluster(vectors, [1] * len(truth), float(t))
            agreement = pair_agreement(truth, groups)
            row.append(f"{len(groups):>10} / {agreement:.3f}")
            if name == "gaps_dev" and agreement == 1.0:
                exact.append(round(float(t), 3))
        print("  ".join(row))
    print(f"dev: every kind one group at thresholds {exact}; GAP_THRESHOLD = {GAP_THRESHOLD}")


if __name__ == "__main__":
    main()
