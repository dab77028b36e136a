"""Embedding precision: bfloat16 batches agree with float32 ones and give the same answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from roleguide import RoleGuide
from roleguide.app.cli.main import app
from roleguide.ingest.chunks import chunk_corpus
from roleguide.ingest.corpus import load_corpus
from roleguide.store.embeddings import load_embeddings, resolve_precision

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def test_precision_setting_resolves_and_names_the_fix():
    assert resolve_precision("float32") == "float32"
    assert resolve_precision("bfloat16") == "bfloat16"
    assert resolve_precision("auto") in {"float32", "bfloat16"}
    with pytest.raises(ValueError, match=r"ROLEGUIDE_EMBED_PRECISION.*auto, float32, bfloat16"):
        resolve_precision("fp16")


def test_unknown_precision_is_one_line_from_the_cli(tmp_path):
    runner = CliRunner()
    home = str(tmp_path / "home")
    done = runner.invoke(app, ["ingest", "--precision", "fp16", "--home", home])
    assert done.exit_code == 2
    assert "must be one of auto, float32, bfloat16" in done.output
    assert len(done.output.strip().splitlines()) == 1, done.output
    done = runner.invoke(app, ["ingest", "--home", home], env={"ROLEGUIDE_EMBED_PRECISION": "x"})
    assert done.exit_code == 2 and "ROLEGUIDE_EMBED_PRECISION" in done.output
    assert not (tmp_path / "home").exists(), "nothing is written before the setting is valid"


@pytest.mark.slow  # every corpus sentence embedded twice
def test_bfloat16_vectors_match_float32_on_every_corpus_sentence():
    chunks = chunk_corpus(load_corpus(CORPUS).documents)
    texts = [t for c in chunks for t in c.embedding_texts()]
    exact = np.asarray(load_embeddings("float32").embed_documents(texts))
    fast = np.asarray(load_embeddings("bfloat16").embed_documents(texts))
    cosines = (exact * fast).sum(axis=1)
    assert len(texts) == 119
    assert cosines.min() > 0.9999, f"worst sentence: {texts[int(cosines.argmin())]!r}"
    # Questions are embedded in float32 whatever the setting: one short text gains nothing.
    question = "Who handles customs compliance?"
    assert load_embeddings("bfloat16").embed_query(question) == pytest.approx(
        load_embeddings("float32").embed_query(question)
    )


@pytest.mark.slow  # the corpus indexed twice with the real model
def test_indexes_built_in_either_precision_cite_the_same_passages(tmp_path):
    cases = yaml.safe_load((ROOT / "evals" / "questions.yaml").read_text("utf-8"))["cases"]
    questions = [c["question"] for c in cases if "question" in c]
    assert len(questions) > 90
    guides = {
        p: RoleGuide(corpus_dir=CORPUS, home=tmp_path / p, embed_precision=p)
        for p in ("float32", "bfloat16")
    }
    first_differs, reordered = [], 0
    for question in questions:
        answers = {p: g.ask(question) for p, g in guides.items()}
        cited = {p: [c.chunk_id for c in a.citations] for p, a in answers.items()}
        assert answers["float32"].abstained == answers["bfloat16"].abstained, question
        if cited["float32"][:1] != cited["bfloat16"][:1]:
            first_differs.append(question)
        reordered += cited["float32"] != cited["bfloat16"]
    # Near-ties further down may swap; the passage an answer leads with must not change.
    assert first_differs == []
    assert reordered <= len(questions) // 20, f"{reordered} of {len(questions)} reordered"


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_ingest_pool_vectors_are_those_of_encode_whatever_the_workers(precision):
    """The ingest pool (batches shared out to one-thread workers, or one worker) gives the
    same vectors bit for bit with 1, 2 or 3 workers, and the vectors of one ``encode`` call
    up to rounding: it cuts its batches by word pieces where ``encode`` cuts by characters."""
    import torch

    from roleguide.store.encode_pool import encode_pool

    chunks = chunk_corpus(load_corpus(CORPUS).documents)
    texts = [t.replace("\n", " ") for c in chunks for t in c.embedding_texts()]
    client = load_embeddings(precision)._client
    threads = torch.get_num_threads()
    bfloat16 = precision == "bfloat16"
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
        whole = client.encode(texts, batch_size=32, normalize_embeddings=True)
    pooled = {n: encode_pool(client, texts, 32, bfloat16=bfloat16, workers=n) for n in (1, 2, 3)}
    assert np.array_equal(pooled[1], pooled[2]) and np.array_equal(pooled[1], pooled[3])
    assert pooled[1].dtype == np.float32 and pooled[1].shape == whole.shape
    if bfloat16:
        assert (pooled[1] * whole).sum(axis=1).min() > 0.9999
    else:
        assert np.abs(pooled[1] - whole).max() < 1e-6
    assert torch.get_num_threads() == threads, "the process's thread count is restored"


def test_ingest_pool_stays_up_for_several_lists():
    """One pool serves a whole ingest: each list's vectors are those of a pool of its own,
    lists queued behind one another, and the thread count comes back when it closes."""
    import torch

    from roleguide.store.encode_pool import EncodePool, encode_pool

    chunks = chunk_corpus(load_corpus(CORPUS).documents)
    texts = [t for c in chunks for t in c.embedding_texts()]
    client = load_embeddings("float32")._client
    threads = torch.get_num_threads()
    with EncodePool(client, 8, bfloat16=False, workers=2) as pool:
        first, second, empty = pool.submit(texts[:50]), pool.submit(texts[50:]), pool.submit([])
        together = first.result(), second.result()
        assert empty.result().shape == (0, 384)
        assert pool.busy_seconds > 0
    alone = [
        encode_pool(client, part, 8, bfloat16=False, workers=2) for part in (texts[:50], texts[50:])
    ]
    for got, want in zip(together, alone, strict=True):
        assert got.shape == want.shape
        assert np.abs(got - want).max() < 1e-6  # float32 rounding at most
    assert torch.get_num_threads() == threads


def test_ingest_batches_are_sorted_by_word_pieces_and_padded_less():
    from roleguide.store.encode_pool import _batches, _token_counts

    chunks = chunk_corpus(load_corpus(CORPUS).documents)
    texts = [t for c in chunks for t in c.embedding_texts()]
    client = load_embeddings("float32")._client
    counts = _token_counts(client, texts)
    assert counts[0] == len(client.tokenize([texts[0]])["input_ids"][0])
    batches = _batches(client, texts, 8)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(texts)))
    ordered = np.concatenate([counts[b] for b in batches])
    assert (np.diff(ordered) <= 0).all(), "most word pieces first"

    def padding(cuts) -> int:
        return sum(int(counts[b].max()) * len(b) - int(counts[b].sum()) for b in cuts)

    by_characters = np.argsort([-len(t) for t in texts], kind="stable")
    assert padding(batches) < padding([by_characters[i : i + 8] for i in range(0, len(texts), 8)])


def test_ingest_pool_reraises_a_workers_error(monkeypatch):
    import torch

    from roleguide.store.encode_pool import encode_pool

    client = load_embeddings("float32")._client
    threads = torch.get_num_threads()
    real = client.preprocess

    def preprocess(batch, *args, **kwargs):
        if "boom" in batch:
            raise RuntimeError("worker failed")
        return real(batch, *args, **kwargs)

    monkeypatch.setattr(client, "preprocess", preprocess)
    texts = [f"sentence number {i}" for i in range(40)] + ["boom"]
    with pytest.raises(RuntimeError, match="worker failed"):
        encode_pool(client, texts, 8, bfloat16=False, workers=2)
    assert torch.get_num_threads() == threads, "the process's thread count is restored"
