"""The front-matter variant of a corpus: the same articles with ``title`` and ``roles``
front matter prepended, from a hand-written mapping kept beside the corpus.

A question set is run both ways (as found, and with front matter) to see how much the
pipeline depends on front matter. The copy goes to a folder the caller owns (a temp dir);
the corpus itself is never touched.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from roleguide.errors import RoleGuideError

__all__ = ["FRONT_MATTER_FILE", "FrontMatterError", "front_matter_corpus", "load_front_matter"]

FRONT_MATTER_FILE = "front_matter.yaml"
"""The mapping's name, looked up in the corpus folder's parent (``evals/general/``)."""


class FrontMatterError(RoleGuideError, ValueError):
    """A mapping that is missing, malformed or out of step with the corpus."""


def load_front_matter(path: Path) -> dict[str, dict]:
    """``{file name: {"title": str, "roles": [str, ...]}}`` from the mapping's ``articles``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FrontMatterError(
            f"{path}: no front-matter mapping; write one (articles: {{file: {{title, roles}}}})"
        ) from None
    except yaml.YAMLError as e:
        raise FrontMatterError(f"{path}: not valid YAML ({e})") from e
    articles = raw.get("articles") if isinstance(raw, dict) else None
    if not isinstance(articles, dict):
        raise FrontMatterError(f"{path}: expected a mapping with an 'articles' mapping")
    out = {}
    for name, meta in articles.items():
        roles = meta.get("roles") if isinstance(meta, dict) else None
        title = meta.get("title") if isinstance(meta, dict) else None
        if not isinstance(title, str) or not title.strip():
            raise FrontMatterError(f"{path}: article {name!r}: field 'title': required text")
        if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
            raise FrontMatterError(f"{path}: article {name!r}: field 'roles': a list of titles")
        out[str(name)] = {"title": title.strip(), "roles": roles}
    return out


def front_matter_corpus(corpus_dir: Path, target: Path, mapping: Path | None = None) -> Path:
    """Copy ``corpus_dir`` to ``target``, each article with its front matter prepended."""
    corpus_dir = Path(corpus_dir)
    mapping = mapping or corpus_dir.parent / FRONT_MATTER_FILE
    entries = load_front_matter(mapping)
    files = sorted(p for p in corpus_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    articles = [p for p in files if p.suffix.lower() in (".md", ".txt", ".markdown")]
    missing = [p.name for p in articles if p.name not in entries]
    unknown = sorted(set(entries) - {p.name for p in articles})
    if missing or unknown:
        what = f"no entry for {missing[0]!r}" if missing else f"no file {unknown[0]!r}"
        raise FrontMatterError(f"{mapping}: {what} in {corpus_dir}; keep the two in step")
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        if path.name not in entries:
            shutil.copy2(path, target / path.name)
            continue
        text = path.read_text(encoding="utf-8")
        if text.startswith("---\n"):
            raise FrontMatterError(f"{path}: already has front matter; the variant adds its own")
        header = yaml.safe_dump(entries[path.name], sort_keys=False, allow_unicode=True)
        (target / path.name).write_text(f"---\n{header}---\n{text}", encoding="utf-8")
    return target
