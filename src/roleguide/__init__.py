"""roleguide: cited answers about operations, logistics and procurement roles.

The pipeline, one module per stage: corpus → cleaning → chunks → index (+ lexical) →
retrieval → answer, behind one façade, ``RoleGuide`` (api), used by the cli and the evals.
Heavy imports (torch, chromadb) are deferred until a ``RoleGuide`` is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roleguide.errors import (
    ArticleError,
    ConfigError,
    CorpusError,
    IndexLockedError,
    IndexMismatchError,
    IndexUnavailableError,
    InvalidQuestionError,
    RoleGuideError,
    StorageFullError,
    StoreUnavailableError,
)
from roleguide.models import Answer, Citation

if TYPE_CHECKING:
    from roleguide.api import RoleGuide

__all__ = [
    "Answer",
    "ArticleError",
    "Citation",
    "ConfigError",
    "CorpusError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexUnavailableError",
    "InvalidQuestionError",
    "RoleGuide",
    "RoleGuideError",
    "StorageFullError",
    "StoreUnavailableError",
]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "RoleGuide":
        from roleguide.api import RoleGuide

        return RoleGuide
    raise AttributeError(f"module 'roleguide' has no attribute {name!r}")
