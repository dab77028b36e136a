"""Index generations on disk, and what a failing store means for the user.

Every ingest into the embedded store writes a new copy of the Chroma folder
(``chroma-<id>``); the manifest names the one readers use and is replaced last. A
reader therefore never sees a store that is being written, notices a new generation by
the manifest alone, and keeps the last complete index when an ingest dies (disk full,
killed, damaged store): the half-written copy is removed, nothing else was touched.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from roleguide.errors import (
    IndexMismatchError,
    RoleGuideError,
    StorageFullError,
    StoreUnavailableError,
)

__all__ = [
    "LEGACY_STORE",
    "check_sqlite",
    "copy_store",
    "disk_full_error",
    "is_disk_full",
    "is_store_failure",
    "low_on_space",
    "new_store_name",
    "prune_stores",
    "store_failure",
]

LEGACY_STORE = "chroma"
"""The store folder of an index written before generations (and the default)."""
REBUILD_HINT = "run `roleguide ingest --rebuild` to build it again from the corpus"


def is_store_failure(error: BaseException) -> bool:
    """An error to report, not to pass on: Chroma's Rust core panics with a
    ``PanicException``, a ``BaseException``, on some damaged stores."""
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


_LARGE_TABLES = ("embeddings", "embedding_metadata", "embedding_fulltext", "embeddings_queue")


def check_sqlite(path: Path) -> None:
    """Refuse a damaged ``chroma.sqlite3`` before Chroma opens it: Chroma's Rust core
    aborts the whole process (no exception) on some damage to its catalogue tables."""
    import sqlite3

    if not path.is_file():
        return
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            db.text_factory = bytes
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != b"ok":
                raise sqlite3.DatabaseError(verdict.decode("utf-8", "replace")[:120])
            tables = [r[0].decode() for r in db.execute("SELECT name FROM sqlite_master")]
            for table in tables:
                if table.startswith(_LARGE_TABLES) or table.startswith("sqlite_"):
                    continue
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    for value in row:
                        if isinstance(value, bytes):
                            value.decode("utf-8")
    except (sqlite3.Error, UnicodeDecodeError) as e:
        raise IndexMismatchError(
            f"the Chroma store {path.parent} is damaged ({type(e).__name__}: "
            f"{' '.join(str(e).split())[:120]}); {REBUILD_HINT}"
        ) from e


def new_store_name() -> str:
    """A fresh, sortable store folder name for one ingest."""
    return f"{LEGACY_STORE}-{time.time_ns():x}"


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what caused it, in turn (each once, however the chain loops)."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def is_disk_full(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) is a full disk or quota, as OS or SQLite says."""
    for e in _chain(error):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return True
        text = str(e).lower()
        if any(s in text for s in ("no space left", "disk is full", "quota exceeded")):
            return True
        if "file too large" in text:
            return True
    return False


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def low_on_space(home: Path, store: Path) -> bool:
    """True when the disk of ``home`` has less room than the store being written: Chroma's
    own errors hide ENOSPC ("Error in compaction"), and growing a vector file needs about
    the room the store already takes."""
    try:
        free = shutil.disk_usage(home).free
        return free < max(4 * 2**20, _size(store) if store.is_dir() else 0)
    except OSError:
        return False


def disk_full_error(home: Path) -> StorageFullError:
    return StorageFullError(
        f"no space left on the disk of {home}: the last complete index is still in use; "
        "free some space and run `roleguide ingest` again"
    )


def copy_store(home: Path, source: str, target: str) -> None:
    """Copy the store folder ``source`` to ``target`` (the writer's starting point)."""
    try:
        shutil.copytree(home / source, home / target)
    except BaseException as e:
        shutil.rmtree(home / target, ignore_errors=True)
        if is_disk_full(e):
            raise disk_full_error(home) from e
        raise


def prune_stores(home: Path, keep: str) -> None:
    """Remove every store folder but ``keep`` (earlier generations, half-written copies)."""
    for path in home.glob(f"{LEGACY_STORE}*"):
        if path.name != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def store_failure(error: BaseException, where: str, server: str | None) -> RoleGuideError:
    """The user-facing error for a Chroma failure: disk full, server gone, or damage."""
    if isinstance(error, RoleGuideError):
        return error
    if is_disk_full(error):
        return disk_full_error(Path(where))
    reason = f"{type(error).__name__}: {str(error).splitlines()[0][:160] if str(error) else ''}"
    if server:
        names = {type(e).__name__ for e in _chain(error)}
        if names & {"ConnectError", "ConnectTimeout", "ReadError", "RemoteProtocolError"} or any(
            isinstance(e, ConnectionError) for e in _chain(error)
        ):
            return StoreUnavailableError(
                f"the Chroma server {server} stopped answering ({reason}); start it again "
                "(`chroma run --path DIR --port PORT`) or unset ROLEGUIDE_CHROMA_URL"
            )
    return IndexMismatchError(f"the index in {where} cannot be read ({reason}); {REBUILD_HINT}")
