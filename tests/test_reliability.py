"""Issue 13: faults from outside the process — another process's ingest, a full disk, a
damaged store, links out of the corpus, files edited or renamed while ingest runs."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from roleguide import IndexMismatchError, RoleGuide, RoleGuideError
from roleguide.ingest.pipeline import ingest
from roleguide.store.embeddings import HashEmbeddings
from roleguide.store.index import VectorIndex

INGEST = """
import sys
from pathlib import Path

import pytest
from roleguide.store.embeddings import HashEmbeddings
from roleguide.store.index import VectorIndex
from roleguide.ingest.pipeline import ingest
ingest(VectorIndex(Path(sys.argv[1]), HashEmbeddings(64)), Path(sys.argv[2]),
       rebuild=sys.argv[3] == "rebuild")
print("done", flush=True)
"""

NEW_ARTICLE = """---
title: Dock Scheduling
roles: [Operations Manager]
---
Dock Scheduling

Scheduling: The Operations Manager books every zorbulator slot at the loading dock {n}.
"""


def other_process_ingest(home: Path, corpus: Path, rebuild: bool = False) -> None:
    subprocess.run(
        [sys.executable, "-c", INGEST, str(home), str(corpus), "rebuild" if rebuild else ""],
        check=True,
        timeout=300,
    )


@pytest.mark.slow
def test_a_reader_follows_another_process_ingest(corpus_copy, tmp_path):
    """A long-lived guide answers every question while another process adds, edits,
    deletes and rebuilds, and cites the new article within 5 s of each ingest."""
    home = tmp_path / "home"
    guide = RoleGuide(corpus_dir=corpus_copy, home=home, embeddings=HashEmbeddings(64))
    asked, failures, stop = [0], [], threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                guide.ask("Who books the zorbulator slots at the loading dock?")
                asked[0] += 1
            except Exception as e:  # counted, not raised: the figure is the point
                failures.append(f"{type(e).__name__}: {e}")
            time.sleep(0.05)

    def cited_within(seconds: float, wanted: str | None) -> float:
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            answer = guide.ask("Who books the zorbulator slots at the loading dock?")
            sources = {c.source for c in answer.citations}
            if (wanted in sources) if wanted else ("dock.md" not in sources):
                return time.monotonic() - began
            time.sleep(0.1)
        raise AssertionError(f"not seen within {seconds} s: {wanted}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        article = corpus_copy / "dock.md"
        article.write_text(NEW_ARTICLE.format(n=1), "utf-8")
        other_process_ingest(home, corpus_copy)
        cited_within(5, "dock.md")
        article.write_text(NEW_ARTICLE.format(n=2), "utf-8")
        other_process_ingest(home, corpus_copy)
        cited_within(5, "dock.md")
        other_process_ingest(home, corpus_copy, rebuild=True)
        cited_within(5, "dock.md")
        assert "dock 2" in guide.ask("Who books the zorbulator slots at the dock?").text
        article.unlink()
        other_process_ingest(home, corpus_copy)
        cited_within(5, None)
    finally:
        stop.set()
        thread.join()
    print(f"answered during the other process's ingests: {asked[0]}/{asked[0] + len(failures)}")
    assert not failures, failures[:3]
    assert asked[0] > 10
    # Old generations are removed once no manifest names them.
    assert len(list(home.glob("chroma*"))) == 1


class SlowEmbeddings(HashEmbeddings):
    """Hash vectors that take a while: long enough for someone to edit a file meanwhile."""

    def __init__(self) -> None:
        super().__init__(64)
        self.embedding = threading.Event()

    def embed_documents(self, texts):
        self.embedding.set()
        time.sleep(1.0)
        return super().embed_documents(texts)


def test_an_edit_made_while_ingest_embeds_is_picked_up_next_time(corpus_copy, tmp_path):
    home = tmp_path / "home"
    article = corpus_copy / "dock.md"
    article.write_text(NEW_ARTICLE.format(n=1), "utf-8")
    slow = SlowEmbeddings()

    def edit() -> None:
        slow.embedding.wait(60)
        article.write_text(NEW_ARTICLE.format(n=2), "utf-8")  # another editor saves

    editor = threading.Thread(target=edit)
    editor.start()
    ingest(VectorIndex(home, slow), corpus_copy)
    editor.join()
    again = ingest(VectorIndex(home, HashEmbeddings(64)), corpus_copy)
    assert again.changed, "the edit made during the first ingest was never indexed"
    guide = RoleGuide(corpus_dir=corpus_copy, home=home, embeddings=HashEmbeddings(64))
    assert "dock 2" in guide.ask("Who books the zorbulator slots at the loading dock?").text


def test_links_out_of_the_corpus_are_not_followed(corpus_copy, tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text("Secret\n\nThe Operations Manager password is hunter2 zorbulator.\n")
    (corpus_copy / "passwd.md").symlink_to("/etc/passwd")
    (corpus_copy / "secret.md").symlink_to(outside)
    (corpus_copy / "inside.md").symlink_to(corpus_copy / "operations-vs-logistics-guide.md")
    report = ingest(VectorIndex(tmp_path / "home", HashEmbeddings(64)), corpus_copy)
    skipped = {s.source: s.reason for s in report.skipped}
    assert set(skipped) == {"passwd.md", "secret.md"}
    assert all("outside the corpus" in r for r in skipped.values())
    assert "inside.md" in report.files  # a link that stays inside the folder is fine
    guide = RoleGuide(corpus_dir=corpus_copy, home=tmp_path / "home", embeddings=HashEmbeddings(64))
    answer = guide.ask("What is the root password of the zorbulator?")
    assert all(c.source not in skipped for c in answer.citations + answer.related)
    assert "hunter2" not in answer.text and "root:x" not in answer.text


def test_a_file_renamed_during_ingest_is_a_skip_not_a_traceback(corpus_copy, tmp_path):
    article = corpus_copy / "dock.md"
    article.write_text(NEW_ARTICLE.format(n=1), "utf-8")
    slow = SlowEmbeddings()
    from roleguide.ingest import corpus as corpus_module

    files = corpus_module.corpus_files(corpus_copy)
    article.rename(corpus_copy / "dock-renamed.md")  # between listing and reading
    loaded = corpus_module.load_corpus(corpus_copy, files)
    assert [s.source for s in loaded.skipped] == ["dock.md"]
    assert "renamed or deleted" in loaded.skipped[0].reason
    report = ingest(VectorIndex(tmp_path / "home", slow), corpus_copy)
    assert "dock-renamed.md" in report.files


@pytest.fixture
def small_disk(tmp_path):
    """A real 6 MB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow  # ingests into a tiny disk with the real model
def test_a_full_disk_keeps_the_last_index_and_says_so(corpus_copy, small_disk, tmp_path):
    from roleguide.evaluation.synthetic import write_corpus

    env = {**os.environ, "ROLEGUIDE_HOME": str(small_disk / "home")}
    env["ROLEGUIDE_CORPUS"] = str(corpus_copy)
    cli = [sys.executable, "-m", "roleguide", "ingest"]
    subprocess.run(cli, env=env, check=True, capture_output=True, timeout=300)
    write_corpus(tmp_path / "extra", 1000, seed=3)  # more than 6 MB of rows
    for path in (tmp_path / "extra").iterdir():
        shutil.move(str(path), corpus_copy / path.name)
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space left on" in lines[0], done.stderr[-2000:]
    assert len(list((small_disk / "home").glob("chroma*"))) == 1  # the copy was removed
    guide = RoleGuide(corpus_dir=corpus_copy, home=small_disk / "home", auto_ingest=False)
    answer = guide.ask("Who handles customs compliance?")
    assert not answer.abstained and answer.citations
    # ask with a stale index on a full disk answers from the last index, it does not fail
    assert (
        not RoleGuide(corpus_dir=corpus_copy, home=small_disk / "home")
        .ask("Who handles customs compliance?")
        .abstained
    )


def flip_bytes(path: Path, count: int = 200, seed: int = 13) -> None:
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for at in rng.sample(range(100, len(data)), count):  # past SQLite's 100-byte header
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "flipped bytes in chroma.sqlite3": lambda home: flip_bytes(
        next(home.glob("chroma*/chroma.sqlite3"))
    ),
    "manifest is []": lambda home: (home / "manifest.json").write_text("[]"),
    "manifest roles: null": lambda home: (home / "manifest.json").write_text(
        json.dumps({**json.loads((home / "manifest.json").read_text()), "roles": None})
    ),
    "manifest is a directory": lambda home: (
        (home / "manifest.json").unlink(),
        (home / "manifest.json").mkdir(),
    ),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_home_is_named_and_rebuild_repairs_it(damage, corpus_dir, tmp_path):
    home = tmp_path / "home"
    RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=HashEmbeddings(64))
    DAMAGE[damage](home)
    with pytest.raises(IndexMismatchError, match=r"run `roleguide ingest --rebuild`"):
        RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=HashEmbeddings(64)).ask(
            "Who handles customs compliance?"
        )
    try:  # a plain ingest may find nothing to do, but never ends in a traceback
        ingest(VectorIndex(home, HashEmbeddings(64)), corpus_dir)
    except IndexMismatchError as e:
        assert "--rebuild" in str(e)
    report = ingest(VectorIndex(home, HashEmbeddings(64)), corpus_dir, rebuild=True)
    assert report.chunks > 0
    guide = RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=HashEmbeddings(64))
    assert not guide.ask("Who handles customs compliance?").abstained


@pytest.mark.slow  # `roleguide` processes rebuild the index
def test_the_cli_names_the_fix_for_flipped_bytes_and_rebuild_repairs(corpus_copy, tmp_path):
    env = {**os.environ, "ROLEGUIDE_HOME": str(tmp_path / "home")}
    env["ROLEGUIDE_CORPUS"] = str(corpus_copy)
    cli = [sys.executable, "-m", "roleguide"]
    subprocess.run([*cli, "ingest"], env=env, check=True, capture_output=True, timeout=300)
    flip_bytes(next((tmp_path / "home").glob("chroma*/chroma.sqlite3")))
    asked = subprocess.run(
        [*cli, "ask", "Who handles customs compliance?"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert asked.returncode == 2 and "Traceback" not in asked.stderr, asked.stderr[-2000:]
    assert "roleguide ingest --rebuild" in asked.stderr
    rebuilt = subprocess.run(
        [*cli, "ingest", "--rebuild"], env=env, capture_output=True, text=True, timeout=300
    )
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]


class FailingQueryModel(HashEmbeddings):
    """An embedder whose question-model step fails the way an unforeseen bug would."""

    fail = False

    def ensure_query_export(self, sentences):
        if self.fail:
            raise KeyError("query model")
        return None


def test_a_failure_after_the_store_writes_keeps_the_last_index(corpus_copy, tmp_path):
    home, embeddings = tmp_path / "home", FailingQueryModel(64)
    ingest(VectorIndex(home, embeddings), corpus_copy)
    (corpus_copy / "extra.md").write_text(
        "---\ntitle: Warehouse notes\nroles: [Warehouse Manager]\n---\nWarehouse Managers "
        "run the loading docks and keep stock counts accurate across every shift.\n",
        encoding="utf-8",
    )
    embeddings.fail = True
    with pytest.raises(RoleGuideError, match="KeyError: 'query model'"):  # one line, its cause
        ingest(VectorIndex(home, embeddings), corpus_copy)
    guide = RoleGuide(
        corpus_dir=corpus_copy, home=home, embeddings=HashEmbeddings(64), auto_ingest=False
    )
    answer = guide.ask("Who handles customs compliance?")
    assert answer.citations and not answer.abstained
    assert "extra.md" not in guide.manifest.files  # still the last complete ingest
