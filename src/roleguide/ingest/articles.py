"""Turn a file or a web page into a corpus article: a title and a Markdown body.

Markdown and text are taken as written; HTML pages keep only their main text (trafilatura
drops navigation, ads and comment forms; headings and lists survive as Markdown); PDFs are
read page by page with pypdf. URLs are fetched with bounds on scheme, time, size,
redirects and content type. Nothing here writes anything: ``library`` does.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from roleguide.errors import ArticleError
from roleguide.ingest.corpus import MAX_FILE_BYTES, decode_bytes

__all__ = [
    "FETCH_TIMEOUT",
    "MAX_ARTICLE_BYTES",
    "MAX_REDIRECTS",
    "SUPPORTED_SUFFIXES",
    "Extracted",
    "extract",
    "fetch_url",
    "front_matter",
    "is_url",
    "read_item",
]

MAX_ARTICLE_BYTES = MAX_FILE_BYTES
FETCH_TIMEOUT = 20.0
MAX_REDIRECTS = 5
SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
_KINDS = {".md": "md", ".markdown": "md", ".txt": "txt", ".html": "html", ".htm": "html"}
_KINDS[".pdf"] = "pdf"
_CONTENT_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "application/pdf": "pdf",
}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
MIN_WORDS = 5


@dataclass(frozen=True)
class Extracted:
    """An article's text ready to write: ``body`` is Markdown without front matter."""

    title: str
    body: str
    origin: str
    """the URL, or the original file name"""
    from_url: bool
    meta: dict
    """front matter the input already had (e.g. ``roles``), kept as written"""
    pages: int = 0


def is_url(item: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", item))


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def fetch_url(
    url: str,
    *,
    timeout: float = FETCH_TIMEOUT,
    max_bytes: int = MAX_ARTICLE_BYTES,
    max_redirects: int = MAX_REDIRECTS,
) -> tuple[bytes, str, str]:
    """Download ``url``; returns (data, kind, final URL). Refusals raise ``ArticleError``."""
    import httpx

    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise ArticleError(f"{url}: only http:// and https:// URLs can be added")
    try:
        with (
            httpx.Client(
                follow_redirects=True, max_redirects=max_redirects, timeout=timeout
            ) as client,
            client.stream("GET", url, headers={"User-Agent": "roleguide"}) as response,
        ):
            if response.status_code >= 400:
                raise ArticleError(f"{url}: the server answered HTTP {response.status_code}")
            final = str(response.url)
            if urlsplit(final).scheme.lower() not in ("http", "https"):
                raise ArticleError(f"{url}: redirected to a non-http(s) URL ({final})")
            kind = _kind_from_response(url, response.headers.get("content-type", ""), final)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ArticleError(f"{url}: larger than {_mb(max_bytes)} ({declared} bytes)")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ArticleError(f"{url}: larger than {_mb(max_bytes)}; not downloaded")
                chunks.append(chunk)
    except httpx.TooManyRedirects as e:
        raise ArticleError(f"{url}: more than {max_redirects} redirects; not followed") from e
    except httpx.TimeoutException as e:
        raise ArticleError(f"{url}: no complete answer within {timeout:g} s; try again") from e
    except httpx.HTTPError as e:
        raise ArticleError(f"{url}: cannot download ({type(e).__name__}: {e})") from e
    return b"".join(chunks), kind, final


def _kind_from_response(url: str, content_type: str, final: str) -> str:
    mime = content_type.split(";")[0].strip().lower()
    if mime in _CONTENT_TYPES:
        return _CONTENT_TYPES[mime]
    suffix = Path(unquote(urlsplit(final).path)).suffix.lower()
    if mime in ("", "application/octet-stream") and suffix in _KINDS:
        return _KINDS[suffix]
    raise ArticleError(
        f"{url}: unsupported content type {mime or '(none)'}; "
        "add HTML, PDF, Markdown or plain-text pages"
    )


def read_item(item: str | Path, *, max_bytes: int = MAX_ARTICLE_BYTES) -> tuple[bytes, str, str]:
    """Read a local file; returns (data, kind, original file name)."""
    path = Path(item)
    kind = _KINDS.get(path.suffix.lower())
    if kind is None:
        raise ArticleError(
            f"{path.name}: unsupported file type {path.suffix or '(no suffix)'}; "
            f"add one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if not path.is_file():
        raise ArticleError(f"{item}: no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise ArticleError(f"{path.name}: larger than {_mb(max_bytes)} ({_mb(size)})")
    return path.read_bytes(), kind, path.name


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return ""


def front_matter(text: str, name: str) -> tuple[dict, int]:
    """The YAML front matter of a Markdown text (``{}`` if none) and where the body starts."""
    import yaml

    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, 0
    try:
        loaded = yaml.safe_load(match.group(1))
    except yaml.YAMLError as e:
        raise ArticleError(f"{name}: front matter is not valid YAML; fix or remove it") from e
    return (loaded if isinstance(loaded, dict) else {}), match.end()


def _markdown(data: bytes, name: str) -> tuple[str, str, dict]:
    text = decode_bytes(data).replace("\r\n", "\n")
    meta, body_start = front_matter(text, name)
    text = text[body_start:]
    title = str(meta.pop("title", "") or "").strip() or _first_line(text)
    return title, text.strip() + "\n", meta


def _html(data: bytes, name: str) -> tuple[str, str]:
    import trafilatura

    raw = decode_bytes(data)
    body = trafilatura.extract(
        raw,
        output_format="markdown",
        include_comments=False,
        include_links=False,
        include_images=False,
        include_formatting=True,
        include_tables=True,
    )
    meta = trafilatura.extract_metadata(raw)
    title = (meta.title if meta and meta.title else "") or _first_line(body or "")
    return title, (body or "").strip() + "\n"


_HEADING = re.compile(r"^[^\W\d_][^.!?:;,]{0,78}$")


def _pdf_page(text: str) -> list[str]:
    """A page's paragraphs: layout blank lines split them, wrapped lines are re-joined."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [" ".join(line.split()) for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        joined = lines[0]
        for line in lines[1:]:
            if joined.endswith("-") and line[:1].islower():
                joined = joined[:-1] + line
            else:
                joined += " " + line
        if len(lines) == 1 and _HEADING.match(joined) and len(joined.split()) <= 10:
            joined = "## " + joined  # a short unpunctuated line on its own: a heading
        paragraphs.append(joined)
    return paragraphs


def _pdf(data: bytes, name: str) -> tuple[str, str, int]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ArticleError(f"{name}: the PDF is password-protected; add an unlocked copy")
        pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except ArticleError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise ArticleError(f"{name}: not a readable PDF ({e})") from e
    paragraphs = [p for page in pages for p in _pdf_page(page)]
    if not any(re.search(r"\w", p) for p in paragraphs):
        raise ArticleError(
            f"{name}: the PDF has no text layer ({len(pages)} pages, likely scanned images); "
            "run OCR on it first (e.g. ocrmypdf) and add the result"
        )
    title = title or paragraphs[0].lstrip("#").strip()[:200]
    if paragraphs and paragraphs[0].lstrip("#").strip() == title:
        paragraphs = paragraphs[1:]
    return title, "\n\n".join(paragraphs) + "\n", len(pages)


def extract(data: bytes, kind: str, origin: str, *, from_url: bool) -> Extracted:
    """The article in ``data`` (``kind``: md, txt, html or pdf); refuses empty results."""
    name = origin if from_url else Path(origin).name
    meta: dict = {}
    pages = 0
    try:
        if kind == "pdf":
            if not data.lstrip().startswith(b"%PDF"):
                raise ArticleError(f"{name}: not a PDF file (no %PDF header)")
            title, body, pages = _pdf(data, name)
        elif kind == "html":
            title, body = _html(data, name)
        else:
            title, body, meta = _markdown(data, name)
    except ValueError as e:
        if isinstance(e, ArticleError):
            raise
        raise ArticleError(f"{name}: cannot be read as text ({e})") from e
    if len(re.findall(r"\w+", body)) < MIN_WORDS:
        raise ArticleError(f"{name}: no article text found (the extraction is empty)")
    stem = Path(unquote(urlsplit(origin).path)).stem if from_url else Path(origin).stem
    return Extracted(title or stem or "article", body, origin, from_url, meta, pages)
