"""Issue 13, item 2: the LLM answer check on a labelled set of generated sentences
(tests/data/llm_claims.yaml): no unsupported sentence accepted, most paraphrases kept.
Thresholds were tuned on the dev passages; the test passages judge them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from roleguide.ask.llm import SUPPORT_THRESHOLD, LLMAnswerer
from roleguide.ask.retrieval import Hit

CLAIMS = yaml.safe_load((Path(__file__).parent / "data" / "llm_claims.yaml").read_text("utf-8"))


def passage_hit(guide, source: str, section: str) -> Hit:
    chunk = next(
        r for r in guide.index.iter_records() if (r.source, r.section) == (source, section)
    )
    return Hit(chunk, 1.0, 1.0, 1.0, {})


def judged(guide, split: str) -> list[tuple[bool, bool, str, str]]:
    checker = LLMAnswerer(None, guide.answerer)
    out = []
    for passage in CLAIMS:
        if passage["split"] != split:
            continue
        hits = [passage_hit(guide, passage["source"], passage["section"])]
        for supported, kind, sentence in passage["claims"]:
            accepted = checker.check(sentence, 1, hits).support >= SUPPORT_THRESHOLD
            out.append((supported, accepted, kind, sentence))
    return out


def test_the_set_is_large_and_balanced():
    claims = [c for p in CLAIMS for c in p["claims"]]
    assert len(claims) >= 60
    assert abs(sum(c[0] for c in claims) - len(claims) / 2) <= 1
    assert {p["split"] for p in CLAIMS} == {"dev", "test"}


@pytest.mark.slow  # every labelled claim of the split through the answerer
@pytest.mark.parametrize("split", ["dev", "test"])
def test_no_unsupported_sentence_is_accepted(guide, split):
    results = judged(guide, split)
    bad = [(kind, s) for supported, accepted, kind, s in results if accepted and not supported]
    good = [accepted for supported, accepted, _, _ in results if supported]
    kept = sum(good) / len(good)
    lost = [s for supported, accepted, _, s in results if supported and not accepted]
    print(
        f"{split}: {len(bad)} of {len(results) - len(good)} unsupported accepted, "
        f"{sum(good)} of {len(good)} supported kept ({kept:.0%}); lost: {lost}"
    )
    assert not bad, bad
    assert kept >= 0.8, lost
