"""Issue 13: faults from outside the process — another process's ingest, a full disk, a
damaged store, links out of the corpus, files edited or renamed while ingest runs."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from roleguide import RoleGuide
from roleguide.embeddings import HashEmbeddings
from roleguide.index import VectorIndex
from roleguide.ingest import ingest

INGEST = """
import sys
from pathlib import Path
from roleguide.embeddings import HashEmbeddings
from roleguide.index import VectorIndex
from roleguide.ingest import ingest
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
    from roleguide import corpus as corpus_module

    files = corpus_module.corpus_files(corpus_copy)
    article.rename(corpus_copy / "dock-renamed.md")  # between listing and reading
    loaded = corpus_module.load_corpus(corpus_copy, files)
    assert [s.source for s in loaded.skipped] == ["dock.md"]
    assert "renamed or deleted" in loaded.skipped[0].reason
    report = ingest(VectorIndex(tmp_path / "home", slow), corpus_copy)
    assert "dock-renamed.md" in report.files
