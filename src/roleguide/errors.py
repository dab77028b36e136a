"""Errors roleguide raises on purpose; each message says what to do next."""

from __future__ import annotations

__all__ = [
    "ArticleError",
    "ConfigError",
    "CorpusError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexUnavailableError",
    "InvalidQuestionError",
    "RoleGuideError",
    "StorageFullError",
    "StoreUnavailableError",
]


class RoleGuideError(Exception):
    """Base class: anything roleguide refuses with a message meant for the user."""


class ConfigError(RoleGuideError, ValueError):
    """A setting (argument or ``ROLEGUIDE_*`` env var) is malformed or out of range."""


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


class IndexUnavailableError(RoleGuideError):
    """The index cannot be reached: its Chroma server is down or not answering."""


class StoreUnavailableError(IndexUnavailableError):
    """The Chroma server stopped answering under a running guide."""


class ArticleError(RoleGuideError, ValueError):
    """An article cannot be added or removed (bad URL, unsupported type, duplicate, …)."""
