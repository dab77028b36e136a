"""Stage 1, corpus: read the article files (Markdown, text, HTML) into ``SourceDocument``s.

Decoding falls back from UTF-8 to detected encodings; binary, empty or oversized files
are skipped with a reason, so one bad file never stops the rest from loading.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml

from roleguide.errors import CorpusError
from roleguide.ingest.structure import META_LINE

__all__ = [
    "SUFFIXES",
    "CorpusLoad",
    "SkippedFile",
    "SourceDocument",
    "corpus_files",
    "decode_bytes",
    "load_corpus",
    "load_document",
    "no_passages_error",
    "scan_corpus",
]

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
MAX_FILE_BYTES = 20 * 1024 * 1024
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


@dataclass(frozen=True)
class SourceDocument:
    """One article; ``text`` is what spans refer to (the decoded file, or an HTML page's text)."""

    source: str
    title: str
    roles: tuple[str, ...]
    text: str
    body_start: int
    digest: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkippedFile:
    source: str
    reason: str


@dataclass
class CorpusLoad:
    documents: list[SourceDocument] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def decode_bytes(data: bytes) -> str:
    """Decode article bytes: BOM first, then strict UTF-8, then charset detection.

    Raises ``ValueError`` for data that is not text.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec)
    if b"\x00" in data:
        raise ValueError("binary data (NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise ValueError("not text in any known encoding") from None
        text = str(best)
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(3, len(text) // 100):
        raise ValueError("binary data (control characters)")
    return text


def _front_matter(text: str) -> tuple[dict, int, str | None]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, 0, None
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as e:
        first = str(e).splitlines()[0]
        return {}, match.end(), f"front matter is not valid YAML ({first}); read as plain text"
    if not isinstance(meta, dict):
        return {}, match.end(), "front matter is not a YAML mapping; ignored"
    return meta, match.end(), None


_HEADING_LINE = re.compile(r"^#{1,2}[ \t]+(\S.*?)[ \t#]*$", re.M)
_SITE_NAME = re.compile(r"\b[\w-]+\.(com|org|net|io|co|edu|gov|uk)\b", re.I)
_TITLE_LOOKAHEAD = 4000
_MAX_TITLE_WORDS = 16  # characters searched for a title heading


def _first_line(text: str, start: int, fallback: str = "") -> str:
    """An article's title when it has none of its own: its first top-level heading, else
    its first line (a site-name line before it, one word or a domain, is passed over);
    ``fallback`` when that line is a paragraph rather than a title."""
    head = text[start : start + _TITLE_LOOKAHEAD]
    if m := _HEADING_LINE.search(head):
        return m.group(1).strip()[:200]
    first = ""
    for line in head.splitlines():
        line = line.strip().lstrip("#").strip()
        if not line:
            continue
        first = first or line
        if len(line.split()) >= 2 and not _SITE_NAME.search(line) and not META_LINE.match(line):
            first = line
            break
    if fallback and (len(first.split()) > _MAX_TITLE_WORDS or re.search(r"[.?!]$", first)):
        return fallback
    return first[:200]


def _name_title(path: Path) -> str:
    """A title from a file name: "demand-planner-vs-supply-planner" → "Demand Planner vs
    Supply Planner"."""
    words = re.split(r"[-_\s]+", path.stem)
    return " ".join(
        w if w.lower() in ("vs", "and", "or", "of") else w.capitalize() for w in words if w
    )


def _as_roles(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list):
        return ()
    return tuple(str(v).strip() for v in value if str(v).strip())


class _VisibleText(HTMLParser):
    """Collects the text a reader sees: no scripts, styles, forms, navigation or hidden elements."""

    SKIP = frozenset(
        "script style noscript template head nav footer form svg iframe button select "
        "textarea object canvas".split()
    )
    BLOCK = frozenset(
        "p div section article main aside header h1 h2 h3 h4 h5 h6 li ul ol table tr "
        "br hr blockquote pre dt dd figcaption title".split()
    )
    VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._stack: list[tuple[str, bool]] = []
        self._in_title = False
        self.h1 = ""
        self._in_h1 = False
        self._row_th = False
        self._rows = 0

    def _hidden(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        a = {k.lower(): (v or "") for k, v in attrs}
        style = a.get("style", "").replace(" ", "").lower()
        return (
            tag in self.SKIP
            or "hidden" in a
            or a.get("aria-hidden", "").lower() == "true"
            or "display:none" in style
            or "visibility:hidden" in style
        )

    def _skipping(self) -> bool:
        return any(hidden for _, hidden in self._stack)

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        if tag in self.BLOCK:
            self.parts.append("\n")
        # Structure as Markdown, so one reader handles both: headings, items, table rows.
        if not self._skipping():
            if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.parts.append("#" * int(tag[1]) + " ")
                self._in_h1 = tag == "h1" and not self.h1
            elif tag == "li":
                self.parts.append("- ")
            elif tag == "table":
                self._rows = 0
            elif tag == "tr":
                self.parts.append("| ")
                self._row_th = False
            elif tag == "th":
                self._row_th = True
        if tag not in self.VOID:
            self._stack.append((tag, self._hidden(tag, attrs)))

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag == "h1":
            self._in_h1 = False
        if not self._skipping():
            if tag in ("td", "th"):
                self.parts.append(" |")
            elif tag == "tr":
                self._rows += 1
                if self._row_th and self._rows == 1:
                    self.parts.append("\n| --- |")
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skipping():
            if self._in_h1:
                self.h1 += data
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _page_title(h1: str, title: str) -> str:
    """The page's own title: its h1, else <title> without a " | Site name" suffix."""
    if h1:
        return h1[:200]
    parts = [p.strip() for p in re.split(r"\s+[|–—·-]\s+", title) if p.strip()]
    return max(parts, key=lambda p: len(p.split()))[:200] if parts else ""


def _html_document(source: str, raw: str, digest: str) -> SourceDocument:
    parser = _VisibleText()
    parser.feed(raw)
    parser.close()
    text = parser.text()
    title = _page_title(" ".join(parser.h1.split()), " ".join(parser.title.split()))
    title = title or _first_line(text, 0) or Path(source).stem
    return SourceDocument(source, title, (), text, 0, digest)


def load_document(path: Path, source: str) -> SourceDocument:
    """Read one file; raises ``ValueError`` with the reason when it cannot be used."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES // 2**20} MB ({size // 2**20} MB)")
    data = path.read_bytes()
    if not data.strip():
        raise ValueError("empty file")
    digest = hashlib.sha256(data).hexdigest()
    text = decode_bytes(data)
    if path.suffix.lower() in (".html", ".htm"):
        doc = _html_document(source, text, digest)
        if not doc.text.strip():
            raise ValueError("no visible text in the HTML page")
        return doc
    meta, body_start, warning = _front_matter(text)
    if not text[body_start:].strip():
        raise ValueError("no text after the front matter")
    title = str(meta.get("title") or "").strip() or _first_line(text, body_start, _name_title(path))
    roles = _as_roles(meta.get("roles"))
    return SourceDocument(
        source, title, roles, text, body_start, digest, (warning,) if warning else ()
    )


OUTSIDE_LINK = "a link to a file outside the corpus folder: not followed"


def scan_corpus(corpus_dir: Path) -> tuple[list[tuple[Path, str]], list[SkippedFile]]:
    """The article files under ``corpus_dir`` as (path, source name), sorted by name, and
    the links that lead out of the folder (never read: ``passwd.md -> /etc/passwd``)."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"corpus folder {str(corpus_dir)!r} does not exist: create it and put articles "
            "(.md, .txt, .html) in it, or point ROLEGUIDE_CORPUS / --corpus at one"
        )
    root = corpus_dir.resolve()
    found, outside = [], []
    for path in corpus_dir.rglob("*"):
        rel = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            outside.append(SkippedFile(rel.as_posix(), OUTSIDE_LINK))
            continue
        found.append((path, rel.as_posix()))
    return sorted(found, key=lambda item: item[1]), sorted(outside, key=lambda s: s.source)


def corpus_files(corpus_dir: Path) -> list[tuple[Path, str]]:
    """The article files under ``corpus_dir`` as (path, source name), sorted by name."""
    return scan_corpus(corpus_dir)[0]


def no_passages_error(corpus_dir: Path, had_files: bool) -> CorpusError:
    """Why an index of ``corpus_dir`` holds no passages, and what to do about it;
    ``had_files`` when articles were read but nothing of them was left to index."""
    where = corpus_dir
    why = (
        f"the articles in {where} had no text left once boilerplate was dropped"
        if had_files
        else f"{where} has no readable articles"
    )
    return CorpusError(
        f"the index holds no passages: {why}; put .md, .txt or .html files with "
        "article text there and run `roleguide ingest`"
    )


def load_corpus(corpus_dir: Path, files: Iterable[tuple[Path, str]] | None = None) -> CorpusLoad:
    """Load every article; unreadable files land in ``skipped`` with their reason."""
    result = CorpusLoad()
    for path, source in corpus_files(corpus_dir) if files is None else files:
        try:
            result.documents.append(load_document(path, source))
        except FileNotFoundError:
            reason = "renamed or deleted while it was being read; run `roleguide ingest` again"
            result.skipped.append(SkippedFile(source, reason))
        except (OSError, ValueError, UnicodeError) as e:
            result.skipped.append(SkippedFile(source, str(e)))
    return result
