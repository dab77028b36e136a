"""An index written by an older roleguide format is rebuilt by `ingest`, not refused."""

from __future__ import annotations

import json
import shutil

from roleguide import RoleGuide
from roleguide.store.embeddings import HashEmbeddings


def test_an_older_index_format_is_rebuilt(corpus_dir, tmp_path, corpus_chunk_count):
    home = tmp_path / "home"
    RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=HashEmbeddings(64))
    manifest = json.loads((home / "manifest.json").read_text())
    manifest["chunker"] = "0"
    (home / "manifest.json").write_text(json.dumps(manifest))
    guide = RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=HashEmbeddings(64))
    assert guide.last_ingest.added == corpus_chunk_count
    assert "older roleguide" in guide.last_ingest.warnings[0]
    assert not guide.ask("Who negotiates contracts with suppliers?").abstained


def test_a_plain_ingest_repairs_a_missing_bm25_index(corpus_dir, tmp_path):
    """Found by the benchmark's cached index: BM25 gone, Chroma and the corpus unchanged."""
    home = tmp_path / "home"
    RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=HashEmbeddings(64))
    for folder in (home / "bm25").iterdir():
        shutil.rmtree(folder)
    # What an older roleguide left: one BM25 index directly in bm25/, no generation folder.
    (home / "bm25" / "ids.json").write_text("[]")
    guide = RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=HashEmbeddings(64))
    assert guide.last_ingest.added == 0  # the vectors were fine: nothing re-embedded
    assert not guide.ask("Who negotiates contracts with suppliers?").abstained
    assert [p.is_dir() for p in (home / "bm25").iterdir()] == [True]
    again = RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=HashEmbeddings(64))
    assert again.last_ingest is None  # repaired for good: the next start just opens it
