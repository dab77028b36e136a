"""Loading, cleaning and chunking, on the real articles and on awkward files."""

from __future__ import annotations

from pathlib import Path

import pytest

from roleguide.ingest.chunks import MAX_CHUNK_TOKENS, chunk_corpus, count_tokens
from roleguide.ingest.corpus import load_corpus, load_document

PROCUREMENT_FACETS = [
    "Scope of Responsibilities",
    "Role in the Supply Chain",
    "Vendor Relationship",
    "Employee Management",
    "Strategic vs. Tactical",
    "Financial Oversight",
    "Quality Control",
    "Risk Management",
    "Data Analysis",
    "Regulatory Compliance",
    "Technology Utilization",
    "Customer Focus",
    "Communication Channels",
    "Skill Set",
    "Career Path",
]


@pytest.fixture(scope="module")
def real_chunks(corpus_dir):
    loaded = load_corpus(corpus_dir)
    assert not loaded.skipped
    return loaded.documents, chunk_corpus(loaded.documents)


def test_corpus_files_have_front_matter_and_unchanged_article_text(corpus_dir):
    shared = corpus_dir.parent.parent / "shared" / "articles"
    for name in [
        "operations-manager-vs-logistics-manager",
        "operations-vs-logistics-guide",
        "logistics-vs-operations-management",
        "operations-manager-vs-procurement-manager",
    ]:
        doc = load_document(corpus_dir / f"{name}.md", f"{name}.md")
        assert doc.title and len(doc.roles) == 2
        if shared.is_dir():
            assert doc.text[doc.body_start :] == (shared / f"{name}.txt").read_text("utf-8")


def test_each_procurement_facet_is_its_own_chunk(real_chunks):
    _, chunks = real_chunks
    mine = [c for c in chunks if c.source == "operations-manager-vs-procurement-manager.md"]
    facets = [c.section for c in mine if c.kind == "facet"]
    assert facets == PROCUREMENT_FACETS
    for chunk in mine:
        if chunk.kind == "facet":
            assert chunk.text.startswith(chunk.section + ":")


def test_no_boilerplate_survives(real_chunks):
    _, chunks = real_chunks
    for chunk in chunks:
        assert "Related Posts" not in chunk.text
        assert not chunk.text.rstrip().endswith("…")
        assert "In this article, we’ll look at" not in chunk.text
        assert "Leave Message" not in chunk.text
        assert "are required" not in chunk.text
    texts = [c.text for c in chunks]
    assert len(texts) == len(set(texts)), "a repeated block was kept twice"
    teaser_roles = ["Fleet Manager", "Team Leader", "Plant Manager", "Facilities Manager"]
    assert not any(role in c.text for c in chunks for role in teaser_roles)


def test_content_paragraphs_are_kept(real_chunks):
    _, chunks = real_chunks
    joined = "\n".join(c.text for c in chunks)
    for phrase in [
        "Maréchal des Logis",
        "Logistics is a segment under operations management.",
        "especially in smaller organizations where one person may wear multiple hats",
        "Anything and everything to do with transporting goods and services",
    ]:
        assert phrase in joined


def test_chunks_are_verbatim_spans_within_the_window(real_chunks):
    documents, chunks = real_chunks
    by_source = {d.source: d for d in documents}
    for chunk in chunks:
        doc = by_source[chunk.source]
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert count_tokens(chunk.text) <= MAX_CHUNK_TOKENS
        for a, b in chunk.sentences:
            assert chunk.start <= a < b <= chunk.end
        assert chunk.title == doc.title and chunk.section


def test_chunk_ids_are_stable(corpus_dir):
    first = [c.id for c in chunk_corpus(load_corpus(corpus_dir).documents)]
    second = [c.id for c in chunk_corpus(load_corpus(corpus_dir).documents)]
    assert first == second and len(set(first)) == len(first)


def test_long_paragraph_is_split_at_sentence_boundaries(tmp_path):
    sentence = "The logistics manager plans the movement and storage of goods across many sites. "
    (tmp_path / "long.md").write_text("# Long\n\n" + sentence * 60, encoding="utf-8")
    loaded = load_corpus(tmp_path)
    chunks = chunk_corpus(loaded.documents)
    assert len(chunks) > 1
    assert "".join(c.text for c in chunks).replace(" ", "") == (sentence * 60).replace(" ", "")
    for chunk in chunks:
        assert count_tokens(chunk.text) <= MAX_CHUNK_TOKENS
        assert chunk.text.endswith(".")


def test_over_long_sentence_is_split_not_truncated(tmp_path):
    words = " ".join(f"word{i}" for i in range(400))
    (tmp_path / "run-on.txt").write_text(f"Run on\n\n{words}.\n", encoding="utf-8")
    chunks = chunk_corpus(load_corpus(tmp_path).documents)
    assert len(chunks) >= 2
    rebuilt = " ".join(c.text for c in chunks)
    assert rebuilt.split() == f"{words}.".split()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_awkward_files_are_loaded_or_skipped_with_a_reason(tmp_path):
    text = "Café budgets: The Logistics Manager handles customs paperwork for imported goods."
    write(tmp_path / "latin1.txt", ("Latin one\n\n" + text).encode("latin-1"))
    write(tmp_path / "utf16.md", ("Sixteen\n\n" + text).encode("utf-16"))
    write(tmp_path / "bom.md", b"\xef\xbb\xbf" + ("With BOM\n\n" + text).encode())
    write(tmp_path / "binary.md", bytes(range(256)) * 20)
    write(tmp_path / "empty.txt", b"  \n")
    write(tmp_path / "broken.md", ("---\ntitle: [unclosed\n---\nBroken front\n\n" + text).encode())
    write(
        tmp_path / "page.html",
        b"<html><head><title>A page</title><script>alert('x')</script></head><body>"
        b"<nav>Home | About</nav><p>Visible paragraph about procurement managers.</p>"
        b"<p style='display:none'>hidden text</p><div hidden>also hidden</div></body></html>",
    )
    loaded = load_corpus(tmp_path)
    docs = {d.source: d for d in loaded.documents}
    skipped = {s.source: s.reason for s in loaded.skipped}
    assert set(docs) == {"latin1.txt", "utf16.md", "bom.md", "broken.md", "page.html"}
    assert "binary" in skipped["binary.md"] and "empty" in skipped["empty.txt"]
    for name in ("latin1.txt", "utf16.md", "bom.md"):
        assert "Café budgets" in docs[name].text
    assert docs["latin1.txt"].title == "Latin one"
    assert docs["broken.md"].warnings and "not valid YAML" in docs["broken.md"].warnings[0]
    page = docs["page.html"]
    assert page.title == "A page"
    assert "Visible paragraph" in page.text
    for hidden in ("alert", "hidden text", "also hidden", "Home | About"):
        assert hidden not in page.text
