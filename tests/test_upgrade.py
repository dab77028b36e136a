"""An index written by an older roleguide format is rebuilt by `ingest`, not refused."""

from __future__ import annotations

import json

from roleguide import RoleGuide
from roleguide.embeddings import HashEmbeddings


def test_an_older_index_format_is_rebuilt(corpus_dir, tmp_path):
    home = tmp_path / "home"
    RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=HashEmbeddings(64))
    manifest = json.loads((home / "manifest.json").read_text())
    manifest["chunker"] = "0"
    (home / "manifest.json").write_text(json.dumps(manifest))
    guide = RoleGuide(corpus_dir=corpus_dir, home=home, embeddings=HashEmbeddings(64))
    assert guide.last_ingest.added == 49
    assert "older roleguide" in guide.last_ingest.warnings[0]
    assert not guide.ask("Who negotiates contracts with suppliers?").abstained
