"""The corpus as statements: every sentence, bullet item and table row (and each cell of a
row), the role(s) it speaks about and the facet it is filed under, read once from the index.

At 100k chunks that is over 200k statements, which the web app needs when it starts: they
are kept as columns of numbers (arrays) beside one copy of each chunk's text, and a
``Statement`` object is made only for those a caller asks for. Per role, the statements
about it and its passage count are worked out once, when the statements are read.
"""

from __future__ import annotations

import contextlib
import ctypes
import re
import sys
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from roleguide.ask.answer import quoted_units
from roleguide.ask.roles import RoleCatalog
from roleguide.careers.facets import facet_label, merge_counted
from roleguide.ingest.chunks import TABLE_HEADER_SEP, Chunk
from roleguide.ingest.structure import cells, plain

__all__ = ["Statement", "Statements", "line_key", "read_statements"]

# a key–value line with no colon: "Median Salary (2019)* $81,409", "Required Education
# Bachelor's degree": the key is the capitalised words before the value
_KEY_WORD = re.compile(r"[A-Z][\w'’/-]*")
# a line that only names where figures come from ("Source: *U.S. Bureau…") says nothing,
# nor does a question
_SOURCE_LINE = re.compile(r"^\W*sources?\b", re.I)


@dataclass(frozen=True, slots=True)
class Statement:
    """One sentence (bullet item, table row) of the corpus, the role(s) it speaks about and
    the facet it is filed under."""

    chunk: Chunk
    position: int
    start: int
    end: int
    subject: tuple[str, ...]
    facet: str | None  # the merged facet's label; None for lines that say nothing
    cell: bool = False  # one cell of a table row (the row itself is a statement too)

    @property
    def text(self) -> str:
        return self.chunk.span_text(self.start, self.end)


def line_key(text: str) -> str:
    """The key of a key–value line without a colon, or ``""`` when it has none.

    >>> line_key("Required Education Bachelor's degree")
    'Required Education'
    >>> line_key("Median Salary (2019)* $81,409")
    'Median Salary'
    """
    words = list(_KEY_WORD.finditer(text))
    run = []
    for m in words:
        if run and text[run[-1].end() : m.start()].strip():
            break
        if not run and m.start() != 0:
            return ""
        run.append(m)
    if not run:
        return ""
    rest = text[run[-1].end() :].lstrip()
    if rest[:1].islower() or rest[:1] in ",;":  # the value starts with the last capital word
        run = run[:-1]
    return text[: run[-1].end()] if len(run) >= 2 else ""


Unit = tuple[int, int, int, tuple[str, ...], str | None, bool]
"""(position, start, end, subject, facet label as the article has it, cell?)"""


class _Reader:
    """Splits a chunk into its statements; a chunk's heading facet and table columns are
    worked out once for all its units."""

    def __init__(self, catalog: RoleCatalog, source_roles: dict[str, list[str]]) -> None:
        self.catalog = catalog
        self.source_roles = source_roles

    def units(self, chunk: Chunk) -> Iterator[Unit]:
        spans, texts, subjects = quoted_units(
            self.catalog, chunk, self.source_roles.get(chunk.source, ())
        )
        heading: str | None = None
        columns = self._columns(chunk)
        for i, ((a, b), subject, text) in enumerate(zip(spans, subjects, texts, strict=True)):
            found = self._cells(chunk, a, b, subject, columns)
            label = None
            if not found and not _SOURCE_LINE.match(text) and not text.rstrip().endswith("?"):
                label = self._own_key(chunk, text)
                if not label:  # the chunk's heading facet, the same for all its units
                    if heading is None:
                        heading = facet_label(self.catalog, chunk, chunk.title)
                    label = heading
            yield i, a, b, subject, label, False
            for x, y, cell_subject, cell_label in found:
                yield i, x, y, cell_subject, cell_label, True

    def _own_key(self, chunk: Chunk, text: str) -> str:
        """A key–value line's key when it names its own facet, else ``""``."""
        # a key-value line ("Average Salary (2014) $111,810") names its own facet unless a
        # heading gives one; a one-role article's title as its context gives none
        if chunk.kind == "fragment" and getattr(chunk, "context", "") in ("", chunk.title):
            key = line_key(text)
            if key and not self.catalog.mentions(key):
                return key
        return ""

    def _columns(self, chunk: Chunk) -> list:
        """A table's headers and the role each names (None for others); [] for no table."""
        if chunk.kind != "table" or not chunk.context:
            return []
        headers = chunk.context.split(TABLE_HEADER_SEP)
        catalog = self.catalog
        return [(h, catalog.canonical(h) if catalog.mentions(h) else None) for h in headers]

    def _cells(self, chunk: Chunk, a: int, b: int, subject: tuple[str, ...], columns: list):
        """A table row's cells as ``(start, end, subject, facet)``: with roles as columns
        each cell is about its column's role under the row's first cell; with a role per
        row each cell is about the row's role under its column's header."""
        if not columns:
            return []
        spans = [
            (x + chunk.start, y + chunk.start)
            for x, y in cells(chunk.text, a - chunk.start, b - chunk.start)
        ]
        if len(spans) != len(columns) or len(spans) < 2:
            return []
        first = chunk.span_text(*spans[0])
        any_role = any(role for _, role in columns[1:])
        out = []
        for (x, y), (header, role) in zip(spans[1:], columns[1:], strict=True):
            if x == y:
                continue
            if role and any_role and not self.catalog.mentions(first):
                out.append((x, y, (role,), plain(first)))
            elif len(subject) == 1 and not any_role:
                out.append((x, y, subject, header))
        return out


class Statements(Sequence[Statement]):
    """Every statement of the corpus, in article order (by source, then offset).

    Chunks are kept in the order the index gave them, as their id, text, offsets and their
    source, title, section, kind and context as numbers of distinct strings; statements as
    columns, each row pointing at its chunk. ``about(role)`` and ``roles`` are worked out once.
    """

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._texts: list[str] = []
        self._bounds = array("q")  # start, end of each chunk
        self._fields = array("i")  # each chunk's source, title, section, kind, context
        self._strings: dict[str, int] = {}  # … as numbers: one copy of each distinct string
        self._string_list: list[str] = []
        self._sentences = array("q")  # every chunk's sentence spans, flat
        self._sentences_from = array("q", [0])  # where each chunk's spans start in it
        self._first = array("i", [0])  # each chunk's first statement
        self._chunk = array("i")
        self._position = array("i")
        self._span = array("q")  # start, end of each statement
        self._subject = array("i")  # index into _subjects
        self._subjects: dict[tuple[str, ...], int] = {}
        self._subject_list: list[tuple[str, ...]] = []
        self._label = array("i")  # index into _labels; -1: filed under no facet
        self._labels: dict[str, int] = {}
        self._facets: list[str] = []  # each label's merged facet
        self._cell = array("b")
        self._order = array("i")  # statements in article order
        self._about: dict[str, array] = {}
        self._by_id: dict[str, int] | None = None
        self.roles: dict[str, tuple[int, tuple[str, ...]]] = {}
        """{role: (passages about it, its articles)} for every role some statement is about"""

    # -- building ------------------------------------------------------------------------
    def _add(self, chunk: Chunk, units: Iterator[Unit]) -> None:
        c = len(self._ids)
        self._ids.append(chunk.id)
        self._texts.append(chunk.text)
        self._bounds.extend((chunk.start, chunk.end))
        for field in (chunk.source, chunk.title, chunk.section, chunk.kind, chunk.context):
            n = self._strings.setdefault(field, len(self._strings))
            if n == len(self._string_list):
                self._string_list.append(field)
            self._fields.append(n)
        for a, b in chunk.sentences:
            self._sentences.extend((a, b))
        self._sentences_from.append(len(self._sentences))
        for position, start, end, subject, label, cell in units:
            self._chunk.append(c)
            self._position.append(position)
            self._span.extend((start, end))
            s = self._subjects.setdefault(subject, len(self._subjects))
            if s == len(self._subject_list):
                self._subject_list.append(subject)
            self._subject.append(s)
            self._label.append(self._labels.setdefault(label, len(self._labels)) if label else -1)
            self._cell.append(cell)
        self._first.append(len(self._chunk))

    def _finish(self, merge: Callable[[dict[str, set[str]], dict[str, int]], dict[str, str]]):
        """Order the statements by article, merge facet labels across articles and work
        out each role's statements."""
        sources = [self._string_list[n] for n in self._fields[::5]]
        chunks = sorted(range(len(self._ids)), key=lambda c: (sources[c], self._bounds[2 * c]))
        used: dict[int, set[str]] = {}  # label → its articles, in order of first use
        counts = [0] * len(self._labels)
        for c in chunks:
            for k in range(self._first[c], self._first[c + 1]):
                self._order.append(k)
                label = self._label[k]
                if label >= 0:
                    used.setdefault(label, set()).add(sources[c])
                    counts[label] += 1
        names = list(self._labels)
        by_name = {names[x]: found for x, found in used.items()}
        tally = {names[x]: counts[x] for x in used}
        merged = merge(by_name, tally)
        shown = _display_names(by_name, tally, merged)
        self._facets = [shown[merged[name]] for name in names]
        self._labels = {}
        self._subjects = {}
        self._strings = {}
        passages: dict[str, set[str]] = {}
        articles: dict[str, set[str]] = {}
        about: dict[str, list[int]] = {}
        for k in self._order:
            subject = self._subject_list[self._subject[k]]
            if not subject:
                continue
            c = self._chunk[k]
            filed = self._label[k] >= 0
            for role in subject if len(subject) == 1 else dict.fromkeys(subject):
                passages.setdefault(role, set()).add(self._ids[c])
                articles.setdefault(role, set()).add(sources[c])
                if filed:
                    about.setdefault(role, []).append(k)
        self._about = {role: array("i", found) for role, found in about.items()}
        self.roles = {
            role: (len(passages[role]), tuple(sorted(articles[role]))) for role in passages
        }

    # -- reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, i: int) -> Statement: ...
    @overload
    def __getitem__(self, i: slice) -> list[Statement]: ...
    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.statement(k) for k in self._order[i]]
        return self.statement(self._order[i])

    def __iter__(self) -> Iterator[Statement]:
        return (self.statement(k) for k in self._order)

    def about(self, role: str) -> Sequence[int]:
        """The statements (row numbers) about ``role`` filed under a facet, article order."""
        return self._about.get(role, ())

    def subject(self, k: int) -> tuple[str, ...]:
        return self._subject_list[self._subject[k]]

    def text(self, k: int) -> str:
        c = self._chunk[k]
        offset = self._bounds[2 * c]
        return self._texts[c][self._span[2 * k] - offset : self._span[2 * k + 1] - offset]

    def chunk(self, c: int) -> Chunk:
        """The chunk record (as the index gave it) of chunk number ``c``."""
        source, title, section, kind, context = map(
            self._string_list.__getitem__, self._fields[5 * c : 5 * c + 5]
        )
        spans = self._sentences[self._sentences_from[c] : self._sentences_from[c + 1]]
        return Chunk(
            self._ids[c],
            source,
            title,
            section,
            kind,
            self._texts[c],
            self._bounds[2 * c],
            self._bounds[2 * c + 1],
            tuple(zip(spans[::2], spans[1::2], strict=True)),
            context,
        )

    def statement(self, k: int) -> Statement:
        """Statement number ``k`` (a row number, not its place in article order)."""
        label = self._label[k]
        return Statement(
            self.chunk(self._chunk[k]),
            self._position[k],
            self._span[2 * k],
            self._span[2 * k + 1],
            self._subject_list[self._subject[k]],
            self._facets[label] if label >= 0 else None,
            bool(self._cell[k]),
        )

    def unit(self, chunk_id: str, position: int) -> Statement | None:
        """The sentence (bullet item, table row) at ``position`` of a chunk when it is
        about some role; None otherwise (and for unknown chunks)."""
        if self._by_id is None:  # only matching needs it: made on first use
            self._by_id = {cid: c for c, cid in enumerate(self._ids)}
        c = self._by_id.get(chunk_id)
        if c is None:
            return None
        for k in range(self._first[c], self._first[c + 1]):
            if self._position[k] == position and not self._cell[k]:
                return self.statement(k) if self.subject(k) else None
        return None


def _display_names(
    sources: dict[str, set[str]], counts: dict[str, int], merged: dict[str, str]
) -> dict[str, str]:
    """The name each merged facet is shown under: the spelling most articles use (then
    the one most units have; then the first used)."""
    used: dict[str, list[str]] = {}
    for label in sources:
        used.setdefault(merged[label], []).append(label)
    return {
        head: max(names, key=lambda x: (len(sources[x]), counts[x])) for head, names in used.items()
    }


def read_statements(
    records: Iterator[Chunk],
    catalog: RoleCatalog,
    source_roles: dict[str, list[str]],
    embed: Callable[[list[str]], list[list[float]]],
) -> Statements:
    """The statements of every chunk in ``records`` (read one at a time, in any order)."""
    reader = _Reader(catalog, source_roles)
    table = Statements()
    for chunk in records:
        table._add(chunk, reader.units(chunk))
    table._finish(lambda sources, counts: merge_counted(sources, counts, embed))
    _trim_malloc()
    return table


def _trim_malloc() -> None:
    """Hand the memory freed after reading every chunk back to the OS, which glibc keeps
    otherwise: at 100k chunks the index's pages leave ~60 MiB of the process's RSS."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl, …)
            ctypes.CDLL("libc.so.6").malloc_trim(0)
