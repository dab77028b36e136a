"""Errors roleguide raises on purpose; each message says what to do next."""

from __future__ import annotations

__all__ = [
    "ArticleError",
    "CorpusError",
    "IndexLockedError",
    "IndexMismatchError",
    "InvalidQuestionError",
    "RoleGuideError",
    "StorageFullError",
    "StoreUnavailableError",
]


class RoleGuideError(Exception):
    """Base class: anything roleguide refuses with a message meant for the user."""


class InvalidQuestionError(RoleGuideError, ValueError):
    """The question is empty, too long or otherwise unusable."""


class CorpusError(RoleGuideError, ValueError):
    """The corpus folder is missing or holds nothing roleguide can read."""


class IndexMismatchError(RoleGuideError):
    """The index on disk was built differently (another model, a damaged file)."""


class IndexLockedError(RoleGuideError):
    """Another process is writing the same embedded index."""


class StorageFullError(RoleGuideError):
    """The disk filled up while the index was written; the last complete index is kept."""


class StoreUnavailableError(RoleGuideError):
    """The Chroma server stopped answering."""


class ArticleError(RoleGuideError, ValueError):
    """An article cannot be added or removed (bad URL, unsupported type, duplicate, …)."""
