"""Add, remove and list the corpus's articles, keeping the index in step.

Everything that can be refused (download, extraction, name collision, duplicate text) is
checked before anything is written; a failed ingest puts the corpus folder back, so a
refusal leaves the corpus and the index exactly as they were.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from roleguide.errors import ArticleError
from roleguide.ingest.articles import Extracted, extract, fetch_url, front_matter, is_url, read_item
from roleguide.ingest.corpus import corpus_files, load_document
from roleguide.models import AddResult, ArticleInfo, RemoveResult

if TYPE_CHECKING:
    from roleguide.api import RoleGuide

__all__ = [
    "PreparedArticle",
    "add_articles",
    "find_article",
    "list_articles",
    "prepare_articles",
    "remove_article",
    "safe_name",
]

MAX_NAME_CHARS = 80


@dataclass(frozen=True)
class PreparedArticle:
    """An article checked and rendered, not yet written: ``name`` under the corpus folder."""

    name: str
    text: str
    extracted: Extracted


def safe_name(title: str) -> str:
    """A file name from a title: ASCII letters, digits and dashes, ``.md``."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:MAX_NAME_CHARS]
    return (slug.strip("-") or "article") + ".md"


def _fingerprint(text: str) -> str:
    """What two copies of one article share: their words, whatever the markup or spacing."""
    return " ".join(re.findall(r"\w+", text.lower()))


def _render(extracted: Extracted, added: str) -> str:
    meta = {"title": extracted.title}
    meta["source_url" if extracted.from_url else "original_file"] = extracted.origin
    meta["added"] = added
    meta.update({k: v for k, v in extracted.meta.items() if k not in meta})
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{head}---\n\n{extracted.body}"


def _existing_fingerprints(corpus_dir: Path) -> dict[str, str]:
    found = {}
    for path, source in corpus_files(corpus_dir):
        try:
            doc = load_document(path, source)
        except (OSError, ValueError):
            continue
        found[_fingerprint(doc.text[doc.body_start :])] = source
    return found


def prepare_articles(
    items: Iterable[str | Path], corpus_dir: Path, *, name: str | None = None
) -> list[PreparedArticle]:
    """Fetch or read each item and check it can be added; raises ``ArticleError`` listing
    every refusal (one line each) and writes nothing."""
    items = list(items)
    if not items:
        raise ArticleError("nothing to add: give one or more files or http(s) URLs")
    if name is not None and len(items) > 1:
        raise ArticleError("--name names one article; add the others separately")
    taken = {source.lower() for _, source in corpus_files(corpus_dir)}
    seen = _existing_fingerprints(corpus_dir)
    added = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    prepared, problems = [], []
    for item in items:
        try:
            if isinstance(item, str) and is_url(item):
                data, kind, final = fetch_url(item)
                extracted = extract(data, kind, final, from_url=True)
            else:
                data, kind, original = read_item(item)
                extracted = extract(data, kind, original, from_url=False)
            target = safe_name(Path(name).stem if name else extracted.title)
            if target.lower() in taken:
                raise ArticleError(
                    f"{item}: an article named {target} is already in the corpus; "
                    f"remove it first (roleguide remove {target}) or choose another --name"
                )
            print_ = _fingerprint(extracted.body)
            if print_ in seen:
                raise ArticleError(
                    f"{item}: the same text is already in the corpus as {seen[print_]}"
                )
            taken.add(target.lower())
            seen[print_] = target
            prepared.append(PreparedArticle(target, _render(extracted, added), extracted))
        except ArticleError as e:
            problems.append(str(e))
    if problems:
        raise ArticleError("\n".join(problems))
    return prepared


def _write_atomically(path: Path, text: str) -> None:
    # A dot-file is invisible to the corpus reader until it is renamed into place.
    fd, tmp = tempfile.mkstemp(prefix=".adding-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _restore(guide: RoleGuide, undo: Iterable[tuple[Path, bytes | None]]) -> None:
    """Put files back as they were and bring the index back in line with them."""
    for path, data in undo:
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(data)
    with contextlib.suppress(Exception):  # the original error is what the caller reports
        guide.ingest()


def add_articles(
    guide: RoleGuide, items: Iterable[str | Path | PreparedArticle], *, name: str | None = None
) -> AddResult:
    """Write the articles into the corpus folder and ingest them (only they are embedded)."""
    began = time.perf_counter()
    corpus_dir = Path(guide.settings.corpus_dir)
    items = list(items)
    ready = [i for i in items if isinstance(i, PreparedArticle)]
    raw = [i for i in items if not isinstance(i, PreparedArticle)]
    if raw:
        ready += prepare_articles(raw, corpus_dir, name=name)
    written: list[tuple[Path, bytes | None]] = []
    try:
        for article in ready:
            path = corpus_dir / article.name
            if path.exists():  # created since prepare_articles looked
                raise ArticleError(f"{article.name} appeared in the corpus meanwhile; try again")
            _write_atomically(path, article.text)
            written.append((path, None))
        report = guide.ingest()
    except BaseException:
        _restore(guide, written)
        raise
    names = {a.name for a in ready}
    infos = tuple(a for a in list_articles(guide) if a.source in names)
    return AddResult(
        articles=infos, chunks_added=report.added, seconds=round(time.perf_counter() - began, 3)
    )


def find_article(corpus_dir: Path, name: str) -> str:
    """The file name of the article ``name`` denotes (file name, stem or title), read from
    the corpus folder alone so that a refusal never opens the index."""
    wanted = name.strip().lower()
    files = corpus_files(corpus_dir)
    titles = {}
    for path, source in files:
        with contextlib.suppress(OSError, ValueError):
            titles[source] = load_document(path, source).title.lower()
    for match in (
        lambda s: s.lower() == wanted,
        lambda s: Path(s).stem.lower() == wanted,
        lambda s: titles.get(s) == wanted,
    ):
        found = [source for _, source in files if match(source)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ArticleError(
                f"{name!r} names several articles ({', '.join(found)}); give the file name"
            )
    raise ArticleError(
        f"no article {name!r} in {corpus_dir}; `roleguide sources` lists the file names"
    )


def remove_article(guide: RoleGuide, name: str) -> RemoveResult:
    """Delete one article (by file name, stem or title) and drop its chunks from the index."""
    corpus_dir = Path(guide.settings.corpus_dir)
    source = find_article(corpus_dir, name)
    article = next(
        (a for a in list_articles(guide) if a.source == source),
        ArticleInfo(source=source, title=source),
    )
    path = corpus_dir / source
    if not path.resolve().is_relative_to(corpus_dir.resolve()):
        raise ArticleError(f"{name!r} is not inside the corpus folder")
    data = path.read_bytes()
    path.unlink()
    try:
        report = guide.ingest()
    except BaseException:
        _restore(guide, [(path, data)])
        raise
    return RemoveResult(article=article, chunks_removed=report.removed)


def _front_matter(path: Path) -> dict:
    with contextlib.suppress(OSError, ValueError):
        return front_matter(path.read_bytes()[:16384].decode("utf-8", "replace"), path.name)[0]
    return {}


def list_articles(guide: RoleGuide) -> list[ArticleInfo]:
    """Every article in the index: title, where it came from, roles, chunks, date added."""
    guide._ready()
    corpus_dir = Path(guide.settings.corpus_dir)
    counts = guide.manifest.counts if guide.manifest else {}
    titles = guide.manifest.titles if guide.manifest else {}
    stated = guide.manifest.roles if guide.manifest else {}
    found: dict[str, set[str]] = {}
    for role in guide.roles():
        for source in role.sources:
            found.setdefault(source, set()).add(role.name)
    rows = []
    for source, chunks in counts.items():
        meta = _front_matter(corpus_dir / source) if corpus_dir.is_dir() else {}
        roles = list(dict.fromkeys([*stated.get(source, []), *sorted(found.get(source, ()))]))
        rows.append(
            ArticleInfo(
                source=source,
                title=titles.get(source, source),
                origin=str(meta.get("source_url") or meta.get("original_file") or ""),
                added=str(meta.get("added") or ""),
                roles=tuple(roles),
                chunks=chunks,
            )
        )
    return rows
