"""Scale features on a 10k-chunk synthetic corpus (timings live in benchmarks/, not here)."""

from __future__ import annotations

import pytest

from roleguide.evaluation.synthetic import write_corpus
from roleguide.ingest.pipeline import INGEST_BATCH, ingest
from roleguide.store.index import VectorIndex

pytestmark = pytest.mark.slow  # builds a 10k-chunk corpus and indexes it twice


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("synthetic")
    assert write_corpus(corpus, 10_000, seed=3) >= 10_000
    return corpus


def test_incremental_ingest_at_10k_touches_only_changed_chunks(synthetic, tmp_path):
    from roleguide.store.embeddings import HashEmbeddings

    index = VectorIndex(tmp_path / "home", HashEmbeddings(32))
    first = ingest(index, synthetic)
    assert first.added == first.chunks >= 10_000 > INGEST_BATCH
    assert len(index.chunk_ids()) == first.chunks
    assert index.sentences.count() == first.sentences_embedded + first.sentences_reused
    files = sorted(synthetic.iterdir())
    changed = files[10]
    lines = changed.read_text("utf-8").splitlines()
    facet = next(i for i, line in enumerate(lines) if ": " in line and i > 4)
    lines[facet] += " A new closing sentence about rail freight planning was added."
    changed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    files[20].unlink()

    again = ingest(index, synthetic)
    assert again.added == 1
    assert again.updated == len(lines) - facet - 1  # later paragraphs of that file moved
    assert again.removed >= 11  # the edited paragraph and every chunk of the deleted article
    assert again.unchanged == again.chunks - 1 - again.updated
    assert again.sentences_embedded == 1  # only the new sentence; the rest are reused
    assert len(index.chunk_ids()) == again.chunks
    index.open()
    assert len(index.lexical.ids) == again.chunks
