"""The storage interface on a real embedded Chroma: the typed manifest and the index writer."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from roleguide.ingest.chunks import CHUNKER_VERSION, Chunk
from roleguide.ingest.pipeline import text_hash
from roleguide.store.embeddings import HashEmbeddings
from roleguide.store.index import VectorIndex
from roleguide.store.manifest import Manifest
from roleguide.store.records import chunk_rows
from roleguide.store.writer import IndexWriter

MODEL = "some-model"


def test_manifest_is_outdated_only_for_this_model_in_an_older_format():
    assert Manifest(model=MODEL, chunker="0").is_outdated(MODEL)
    assert Manifest(model=MODEL, chunker=None).is_outdated(MODEL)
    assert not Manifest(model=MODEL, chunker=CHUNKER_VERSION).is_outdated(MODEL)
    assert not Manifest(model="another-model", chunker="0").is_outdated(MODEL)


def test_manifest_round_trips_and_leaves_out_what_it_lacks(tmp_path):
    manifest = Manifest(
        model=MODEL,
        chunker=CHUNKER_VERSION,
        chunks=3,
        built="2026-01-01/1",
        signature=[["a.md", 10, 20]],
        files={"a.md": "d1"},
        roles={"a.md": ["Buyer"]},
    )
    text = manifest.dumps()
    assert "store" not in json.loads(text) and "query_model" not in json.loads(text)
    assert Manifest.parse(text) == manifest
    assert Manifest.parse(Manifest().dumps()) == Manifest()
    path = tmp_path / "manifest.json"
    assert Manifest.read(path) is None
    stored = dataclasses.replace(manifest, store="chroma-1")
    stored.write(path)
    assert Manifest.read(path) == stored
    assert json.loads(path.read_text())["store"] == "chroma-1"


@pytest.mark.parametrize(
    "text",
    ["[]", "{not json", json.dumps({"roles": None}), json.dumps({"roles": {"a.md": "Buyer"}})],
)
def test_a_manifest_roleguide_did_not_write_is_refused(text):
    with pytest.raises(ValueError):
        Manifest.parse(text)


def make_chunk(source: str, words: list[str], start: int = 0) -> Chunk:
    """A chunk of one sentence per word, as offsets in a document starting at ``start``."""
    text = " ".join(words)
    spans, at = [], start
    for word in words:
        spans.append((at, at + len(word)))
        at += len(word) + 1
    return Chunk(
        f"{source}-{start}-{text}",
        source,
        "Title",
        "Section",
        "paragraph",
        text,
        start,
        start + len(text),
        tuple(spans),
    )


def write(writer: IndexWriter, chunks: list[Chunk]) -> None:
    hashes = [text_hash(t) for c in chunks for t in c.embedding_texts()]
    vectors = {h: np.random.default_rng(len(h)).random(8).tolist() for h in hashes}
    writer.add(chunk_rows(chunks, hashes, vectors))


@pytest.fixture
def writer(tmp_path):
    index = VectorIndex(tmp_path / "home", HashEmbeddings(8))
    writer = IndexWriter(index, None, fresh=True)
    assert writer.index is not index  # embedded: a new store generation
    assert writer.begin() is False  # nothing was under way before
    yield writer
    writer.index.close()


def test_writer_adds_updates_deletes_and_reads_back(writer, monkeypatch):
    monkeypatch.setattr(IndexWriter, "_limit", lambda self: 2)  # rows go in batches of 2
    first, second = make_chunk("a.md", ["one", "two", "three"]), make_chunk("b.md", ["four"])
    write(writer, [first, second])
    assert sorted(writer.index.iter_records(), key=lambda c: c.id) == sorted(
        [first, second], key=lambda c: c.id
    )
    assert first.sentence_text(1) == "two"
    vectors = writer.index.sentence_vectors([first])[first.id]
    assert vectors.shape == (3, 8)

    moved = dataclasses.replace(second, title="New title")
    third = make_chunk("c.md", ["five", "six"])
    new, gone, updated = writer.changes({moved.id: moved, third.id: third})
    assert (new, gone, updated) == ([third], {first.id: 3}, [moved])
    write(writer, new)
    writer.update(updated)
    writer.delete(gone)
    writer.index.forget_cached()
    stored = {c.id: c for c in writer.index.iter_records()}
    assert stored == {moved.id: moved, third.id: third}
    assert writer.index.sentences.count() == 1 + 2  # the deleted chunk's sentences went too


def test_one_collection_heads_carry_the_chunk_and_rows_have_no_documents(writer):
    """The layout readers rely on: one Chroma collection (one vector index to load), a
    chunk's text and fields on its first sentence's row, no documents (no full-text index
    to write), chunk vectors as the normalised mean of their sentences'."""
    first, second = make_chunk("a.md", ["one", "two", "three"]), make_chunk("b.md", ["four"])
    write(writer, [first, second])
    client = writer.index.client
    assert [c.name for c in client.list_collections()] == [writer.index.sentences.name]
    got = writer.index.sentences.get(include=["documents", "metadatas"])
    assert len(got["ids"]) == 4 and got["documents"] == [None] * 4
    rows = dict(zip(got["ids"], got["metadatas"], strict=True))
    assert set(rows[f"{first.id}:1"]) == {"text_hash"}  # a sentence row: its text's hash
    assert set(rows[f"{first.id}:0"]) == {"text_hash", "head", "chunk"}  # a head: the chunk
    assert json.loads(rows[f"{second.id}:0"]["chunk"])["text"] == second.text
    sentences = writer.index.sentence_vectors([first])[first.id]
    mean = sentences.mean(axis=0)
    vectors = writer.index.chunk_vectors(10)
    assert vectors.shape == (2, 8)
    assert np.allclose(vectors[0], mean / np.linalg.norm(mean))


def test_a_chunk_appears_only_once_all_its_sentences_are_stored(writer, monkeypatch):
    """Heads are written last: a write that fails part way leaves no chunk half there."""
    monkeypatch.setattr(IndexWriter, "_limit", lambda self: 2)
    chunk = make_chunk("a.md", ["one", "two", "three"])
    collection = writer.index.sentences
    calls = []
    real = type(collection).upsert

    def failing_upsert(self, **kwargs):
        calls.append(kwargs["ids"])
        if len(calls) == 2:
            raise OSError("disk full")
        return real(self, **kwargs)

    monkeypatch.setattr(type(collection), "upsert", failing_upsert)
    with pytest.raises(OSError):
        write(writer, [chunk])
    assert calls[0] == [f"{chunk.id}:1", f"{chunk.id}:2"]  # the head comes last
    assert writer.index.chunk_ids() == set()


def test_reused_vectors_and_orphans_after_an_interrupted_ingest(writer):
    chunk = make_chunk("a.md", ["alpha", "beta"])
    write(writer, [chunk])
    hashes = {text_hash(t) for t in chunk.embedding_texts()}
    assert set(writer.cached_vectors(hashes | {"unknown"})) == hashes
    assert writer.sweep_orphans({chunk.id}) == 0
    assert writer.sweep_orphans(set()) == 2  # sentence rows whose chunk is not wanted
    assert writer.index.sentences.count() == 0


def test_finish_names_the_store_and_commit_switches_the_reader(writer):
    chunk = make_chunk("a.md", ["alpha"])
    write(writer, [chunk])
    model = writer.index.model_id
    writer.finish(Manifest(model=model, chunker=CHUNKER_VERSION, chunks=1, built="b1"))
    writer.commit()
    reader = writer.reader
    manifest = reader.manifest()
    assert manifest is not None and manifest.store == writer.index.store_name
    assert reader.store_name == writer.index.store_name
    assert not (reader.home / "ingest.pending").exists()
    assert [c.id for c in reader.iter_records()] == [chunk.id]
    reader.close()
