"""Shared fixtures: one real index (bundled model, real Chroma on disk) for the session."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def corpus_chunk_count(corpus_dir) -> int:
    """How many chunks corpus/ makes, counted by the chunker alone (no index, no ingest).

    Tests compare ingest's counts with it, so adding an article to corpus/ breaks none of them.
    """
    from roleguide.ingest.chunks import chunk_corpus
    from roleguide.ingest.corpus import load_corpus

    count = len({chunk.id for chunk in chunk_corpus(load_corpus(corpus_dir).documents)})
    assert count > 0
    return count


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """A data directory with the real index of corpus/, built once per session."""
    from roleguide import RoleGuide

    home = tmp_path_factory.mktemp("roleguide-home")
    RoleGuide(corpus_dir=CORPUS, home=home)
    return home


@pytest.fixture(scope="session")
def guide(built_home):
    """A RoleGuide over the real corpus with the real model."""
    from roleguide import RoleGuide

    return RoleGuide(corpus_dir=CORPUS, home=built_home)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private copy of corpus/ a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def hash_embeddings():
    from roleguide.store.embeddings import HashEmbeddings

    return HashEmbeddings(dimension=64)


@pytest.fixture(scope="session")
def listening_addresses():
    """A function: the IPv4 addresses listening on a TCP port (Linux's /proc/net/tcp)."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("needs Linux's /proc/net/tcp")

    def addresses(port: int) -> list[str]:
        found = []
        for fields in (line.split() for line in table.read_text().splitlines()[1:]):
            host, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.append(socket.inet_ntoa(bytes.fromhex(host)[::-1]))  # little-endian
        return found

    return addresses
