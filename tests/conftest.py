"""Shared fixtures: one real index (bundled model, real Chroma on disk) for the session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


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
