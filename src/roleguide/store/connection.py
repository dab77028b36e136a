"""Where the index lives: the embedded store in the data directory, or a Chroma server.

Everything that differs between the two is here, in two small classes with the same
methods: how the client is made and let go, where the manifest and the "ingest under
way" marker are kept, where the BM25 index goes, and whether an ingest writes a new
store generation (embedded) or into the shared collections in place (server).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roleguide.errors import ConfigError, IndexMismatchError, StoreUnavailableError
from roleguide.store.generations import (
    LEGACY_STORE,
    REBUILD_HINT,
    check_sqlite,
    copy_store,
    low_on_space,
    new_store_name,
    prune_stores,
)
from roleguide.store.manifest import Manifest

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

__all__ = ["Connection", "EmbeddedConnection", "ServerConnection", "connect"]

_MANIFEST_KEY = "roleguide_manifest"
_PENDING_KEY = "roleguide_ingest_pending"

IndexCollection = Callable[[], "Collection"]
"""The index's Chroma collection, fetched only when needed (the embedded manifest never
opens it)."""


class EmbeddedConnection:
    """Chroma's ``PersistentClient`` in a store folder of ``home``; the manifest and the
    pending marker are files beside it. Each ingest writes a new store folder."""

    shared = False
    url: str | None = None

    def __init__(self, home: Path) -> None:
        self.home = home

    @property
    def where(self) -> str:
        return str(self.home)

    @property
    def lexical_dir(self) -> Path:
        return self.home / "bm25"

    @property
    def _manifest_path(self) -> Path:
        return self.home / "manifest.json"

    @property
    def _pending_path(self) -> Path:
        return self.home / "ingest.pending"

    def open_client(self, store: Callable[[], str]) -> ClientAPI:
        """A ``PersistentClient`` on the store folder ``store()`` names (checked first)."""
        import chromadb

        path = self.home / store()
        check_sqlite(path / "chroma.sqlite3")
        path.mkdir(parents=True, exist_ok=True)
        try:
            return chromadb.PersistentClient(path=str(path))
        except Exception as e:
            raise IndexMismatchError(
                f"the Chroma store in {path} cannot be opened ({e}); {REBUILD_HINT}"
            ) from e

    def close_client(self, client: ClientAPI) -> None:
        import contextlib

        with contextlib.suppress(Exception):
            client.close()  # type: ignore[attr-defined]  # the embedded client has one

    def read_manifest(self, collection: IndexCollection) -> Manifest | None:
        return Manifest.read(self._manifest_path)

    def write_manifest(self, collection: IndexCollection, manifest: Manifest) -> None:
        manifest.write(self._manifest_path)

    def mark_pending(self, collection: IndexCollection, pending: bool) -> None:
        if pending:
            import os

            self.home.mkdir(parents=True, exist_ok=True)
            self._pending_path.write_text(str(os.getpid()), encoding="utf-8")
        else:
            self._pending_path.unlink(missing_ok=True)

    def was_pending(self, collection: IndexCollection) -> bool:
        return self._pending_path.exists()

    def store_of(self, manifest: Manifest | None) -> str:
        """The store folder ``manifest`` names (an index from before generations: the one)."""
        return str((manifest.store if manifest is not None else None) or LEGACY_STORE)

    def new_generation(self, manifest: Manifest | None, *, fresh: bool) -> str | None:
        """A new store folder for an ingest: a copy of the current one (empty when
        ``fresh``), so readers keep the last complete index until the manifest names it."""
        name = new_store_name()
        current = self.home / self.store_of(manifest)
        if not fresh and manifest is not None and current.is_dir():
            copy_store(self.home, current.name, name)
        return name

    def keep_generation(self, store: str) -> None:
        """Remove every other store folder (earlier generations, leftovers)."""
        prune_stores(self.home, store)

    def drop_generation(self, store: str) -> None:
        """Remove the store folder of an ingest that did not finish."""
        shutil.rmtree(self.home / store, ignore_errors=True)

    def low_on_space(self, store: str | None) -> bool:
        return low_on_space(self.home, self.home / (store or "."))


class ServerConnection:
    """A Chroma server (``http(s)://host:port``) shared by several processes: the manifest
    and the pending marker are metadata of the index's collection, so every process sees
    the same; an ingest writes the collections in place."""

    shared = True

    def __init__(self, home: Path, name: str, url: str) -> None:
        self.home = home
        self.name = name
        self.url: str | None = url

    @property
    def where(self) -> str:
        return f"the Chroma server {self.url}"

    @property
    def lexical_dir(self) -> Path:
        """A local cache of the BM25 index built from the server's chunks."""
        server = re.sub(r"\W+", "-", str(self.url).split("://")[-1]).strip("-")
        return self.home / "server-cache" / f"{server}-{self.name}" / "bm25"

    def open_client(self, store: Callable[[], str]) -> ClientAPI:
        """A Chroma ``HttpClient``, checked with a heartbeat (``store`` is not asked: the
        server's manifest is read through this client)."""
        from urllib.parse import urlparse

        import chromadb

        url = str(self.url)
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if not parsed.hostname:
            raise ConfigError(f"ROLEGUIDE_CHROMA_URL {url!r} is not http://host:port")
        ssl = parsed.scheme == "https"
        port = parsed.port or (443 if ssl else 8000)
        try:
            client = chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl)
            client.heartbeat()
        except Exception as e:
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {url} ({e}); start it (`chroma run --path "
                f"DIR --port {port}`) or unset ROLEGUIDE_CHROMA_URL to use the embedded store"
            ) from e
        return client

    def close_client(self, client: ClientAPI) -> None:
        """Nothing to let go: the server keeps the store open."""

    @staticmethod
    def _metadata(collection: Collection) -> dict[str, Any]:
        return dict(collection.metadata or {})

    def read_manifest(self, collection: IndexCollection) -> Manifest | None:
        raw = self._metadata(collection()).get(_MANIFEST_KEY)
        return Manifest.parse(raw) if raw else None

    def write_manifest(self, collection: IndexCollection, manifest: Manifest) -> None:
        target = collection()
        target.modify(metadata={**self._metadata(target), _MANIFEST_KEY: manifest.dumps()})

    def mark_pending(self, collection: IndexCollection, pending: bool) -> None:
        target = collection()
        target.modify(metadata={**self._metadata(target), _PENDING_KEY: pending})

    def was_pending(self, collection: IndexCollection) -> bool:
        return bool(self._metadata(collection()).get(_PENDING_KEY))

    def store_of(self, manifest: Manifest | None) -> str:
        """The server has one store: the name is never used for a folder."""
        return LEGACY_STORE

    def new_generation(self, manifest: Manifest | None, *, fresh: bool) -> str | None:
        """None: an ingest writes the shared collections in place."""
        return None

    def keep_generation(self, store: str) -> None:
        """Nothing to prune: the server has one store."""

    def drop_generation(self, store: str) -> None:
        """Nothing to remove: the server has one store."""

    def low_on_space(self, store: str | None) -> bool:
        """The server's disk is not ours to measure."""
        return False


Connection = EmbeddedConnection | ServerConnection


def connect(home: Path, name: str, chroma_url: str | None) -> Connection:
    """The embedded store in ``home``, or the Chroma server at ``chroma_url`` when set."""
    return ServerConnection(home, name, chroma_url) if chroma_url else EmbeddedConnection(home)
