"""The index on disk: incremental ingest, model mismatch, damage, and the single-writer lock."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from roleguide import IndexLockedError, IndexMismatchError, RoleGuide
from roleguide.ingest.pipeline import ingest
from roleguide.store.embeddings import load_embeddings
from roleguide.store.index import VectorIndex

PROCUREMENT = "operations-manager-vs-procurement-manager.md"


def stored_ids(index: VectorIndex) -> set[str]:
    return index.chunk_ids()


@pytest.mark.slow  # the real model embeds the corpus, then the edits
def test_incremental_ingest_with_the_real_model(corpus_copy, tmp_path, corpus_chunk_count):
    index = VectorIndex(tmp_path / "home", load_embeddings())
    first = ingest(index, corpus_copy)
    assert first.added == first.chunks == corpus_chunk_count and first.sentences_embedded > 100
    ids_before = stored_ids(index)
    manifest_before = index.manifest_path.read_text()

    again = ingest(index, corpus_copy)
    assert (again.added, again.removed, again.updated, again.sentences_embedded) == (0, 0, 0, 0)
    assert stored_ids(index) == ids_before
    assert index.manifest_path.read_text() == manifest_before

    path = corpus_copy / PROCUREMENT
    text = path.read_text("utf-8")
    old = "Procurement Managers may use specialized procurement software"
    path.write_text(text.replace(old, "Procurement Managers may use dedicated e-sourcing software"))
    edited = ingest(index, corpus_copy)
    assert (edited.added, edited.removed) == (1, 1)
    # the Technology Utilization paragraph only; its unchanged first sentence is reused
    assert (edited.sentences_embedded, edited.sentences_reused) == (1, 1)
    assert len(stored_ids(index) - ids_before) == 1

    path.unlink()
    deleted = ingest(index, corpus_copy)
    assert deleted.removed == 15 + 1 and deleted.added == 0  # 15 facets, 1 closing paragraph
    sources = {chunk.source for chunk in index.iter_records()}
    assert PROCUREMENT not in sources
    assert index.sentences.count() == sum(
        len(c.sentences) for c in index.get_chunks(list(stored_ids(index))).values()
    )
    index.open()
    assert len(index.lexical.ids) == len(index.chunk_ids()) == deleted.chunks


def test_guide_reingests_when_the_corpus_changes(corpus_copy, tmp_path, hash_embeddings):
    guide = RoleGuide(corpus_dir=corpus_copy, home=tmp_path / "h", embeddings=hash_embeddings)
    assert not guide.is_stale()
    (corpus_copy / "extra.md").write_text(
        "---\ntitle: Extra\nroles: [Warehouse Manager]\n---\nWarehouse Managers run the "
        "warehouse floor and keep stock counts accurate.\n",
        encoding="utf-8",
    )
    assert guide.is_stale()
    guide = RoleGuide(corpus_dir=corpus_copy, home=tmp_path / "h", embeddings=hash_embeddings)
    assert guide.last_ingest.added == 1
    assert "Warehouse Manager" in guide.catalog.roles


@pytest.mark.slow  # a rebuild with the real model
def test_index_built_with_another_model_is_refused(
    corpus_dir, tmp_path, hash_embeddings, corpus_chunk_count
):
    home = tmp_path / "home"
    RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=hash_embeddings)
    with pytest.raises(IndexMismatchError, match=r"roleguide ingest --rebuild"):
        RoleGuide(corpus_dir=corpus_dir, home=home, auto_ingest=False).ask("Who buys?")
    with pytest.raises(IndexMismatchError, match="hash/64"):
        RoleGuide(corpus_dir=corpus_dir, home=home)
    rebuilt = RoleGuide(corpus_dir=corpus_dir, home=home, auto_ingest=False)
    report = rebuilt.ingest(rebuild=True)
    assert report.added == corpus_chunk_count
    assert (
        rebuilt.ask("Who negotiates contracts with suppliers?").lead_role == "Procurement Manager"
    )


@pytest.mark.parametrize("damage", ["bm25", "manifest"])
def test_damaged_index_says_how_to_recover(corpus_dir, tmp_path, hash_embeddings, damage):
    home = tmp_path / "home"
    RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=hash_embeddings)
    if damage == "bm25":
        for ids in (home / "bm25").rglob("ids.json"):
            ids.unlink()
    else:
        (home / "manifest.json").write_text("{not json")
    guide = RoleGuide(
        corpus_dir=corpus_dir, home=home, embeddings=hash_embeddings, auto_ingest=False
    )
    with pytest.raises(IndexMismatchError, match=r"roleguide ingest --rebuild"):
        guide.ask("Who negotiates contracts?")
    guide.ingest(rebuild=True)
    assert not guide.ask("Who negotiates contracts with suppliers?").abstained


def test_second_writer_is_refused(corpus_dir, tmp_path, hash_embeddings, corpus_chunk_count):
    home = tmp_path / "home"
    home.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from filelock import FileLock; "
            f"lock = FileLock({str(home / 'write.lock')!r}); lock.acquire(); "
            "print('locked', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        index = VectorIndex(home, hash_embeddings)
        began = time.monotonic()
        with pytest.raises(IndexLockedError, match="Chroma server"):
            ingest(index, corpus_dir)
        assert time.monotonic() - began < 5
    finally:
        holder.kill()
        holder.wait()
    assert ingest(VectorIndex(home, hash_embeddings), corpus_dir).added == corpus_chunk_count


def test_a_copy_adds_nothing_and_a_rename_embeds_nothing(corpus_copy, tmp_path):
    index = VectorIndex(tmp_path / "home", load_embeddings())
    ingest(index, corpus_copy)
    before = stored_ids(index)
    original = corpus_copy / "operations-vs-logistics-guide.md"
    (corpus_copy / "a-copy-sorted-first.md").write_bytes(original.read_bytes())
    copied = ingest(index, corpus_copy)
    assert (copied.added, copied.removed, copied.sentences_embedded) == (0, 0, 0)
    assert stored_ids(index) == before
    (corpus_copy / "a-copy-sorted-first.md").unlink()
    original.rename(corpus_copy / "renamed.md")
    renamed = ingest(index, corpus_copy)
    assert renamed.added == renamed.removed == 7
    assert renamed.sentences_embedded == 0 and renamed.sentences_reused > 0


def test_persisted_bm25_matches_a_fresh_build(built_home, guide):
    from roleguide.store.lexical import LexicalIndex

    saved = LexicalIndex.load(guide.index.lexical_path(guide.index.manifest().built))
    records = guide.index.get_chunks(saved.ids)
    fresh = LexicalIndex.build(
        saved.ids, [LexicalIndex.document_text(records[i]) for i in saved.ids]
    )
    for query in ["customs compliance", "negotiate contracts suppliers", "degree MBA", "zzz"]:
        assert saved.search(query, 10) == fresh.search(query, 10)


def test_large_reads_are_paged(guide, monkeypatch):
    """Full scans go page by page and id look-ups in batches (SQLite caps variables)."""
    import roleguide.store.index as index_module

    pages = list(guide.index.iter_chunks(include=["metadatas"], page=7))
    ids = [json.loads(m["chunk"])["id"] for page in pages for m in page["metadatas"]]
    assert len(pages) == 7 and len(ids) == len(set(ids)) == len(guide.index.chunk_ids())
    monkeypatch.setattr(index_module, "_ID_BATCH", 5)
    fresh = VectorIndex(guide.index.home, guide.index.embeddings)
    assert set(fresh.get_chunks(ids)) == set(ids)
