"""Give every case of a question set a dev/test split by a seeded random draw.

Stratified by case type (who, fact, out_of_scope, conversation, ...): within each type the
cases are shuffled with ``random.Random(SEED)`` and alternate dev, test, dev, ... so both
halves hold every kind of question. The draw never looks at answers, so no one picks which
cases are held out. Rewrites the ``split:`` line under each ``- id:`` in place (comments
and layout stay). Run: ``python evals/general/assign_split.py evals/general/questions.yaml``.
"""

from __future__ import annotations

import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

SEED = 12


def draw(cases: list[dict], seed: int = SEED) -> dict[str, str]:
    """case id -> "dev" | "test"."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for case in cases:
        by_type[case.get("type", "fact")].append(case["id"])
    rng = random.Random(seed)
    out = {}
    for kind in sorted(by_type):
        ids = sorted(by_type[kind])
        rng.shuffle(ids)
        for i, cid in enumerate(ids):
            out[cid] = "dev" if i % 2 == 0 else "test"
    return out


def main(path: str) -> None:
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    splits = draw(yaml.safe_load(text)["cases"])
    text = re.sub(r"\n[ ]+split: \w+", "", text)

    def add(match: re.Match) -> str:
        indent = " " * (len(match.group(1)) + 2)
        return f"{match.group(0)}\n{indent}split: {splits[match.group(2)]}"

    text = re.sub(r"^([ ]*)- id: (\S+)$", add, text, flags=re.M)
    file.write_text(text, encoding="utf-8")
    counts = defaultdict(int)
    for s in splits.values():
        counts[s] += 1
    print(f"{file}: {dict(counts)}")


if __name__ == "__main__":
    main(sys.argv[1])
