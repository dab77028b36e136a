"""Reads that survive a store replaced or restarted under them: reopen it and try once
more; a failure that persists becomes a one-line ``RoleGuideError``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from roleguide.errors import RoleGuideError
from roleguide.store.generations import is_store_failure, store_failure

if TYPE_CHECKING:
    from roleguide.store.index import VectorIndex

__all__ = ["once_more"]

log = logging.getLogger("roleguide")
T = TypeVar("T")


def once_more(
    call: Callable[[], T], reopen: Callable[[], None], index: VectorIndex, server: str | None
) -> T:
    """``call()``, once more after ``reopen()`` if the store fails under it (another
    process replaced it, or a server restarted); ``server`` names the Chroma server."""
    for attempt in (1, 2):
        try:
            return call()
        except RoleGuideError:
            raise
        except BaseException as e:
            if not is_store_failure(e):
                raise
            if attempt == 2:
                raise store_failure(e, index.where, server) from e
            log.warning("the index failed under a question (%s); reopening it", e)
            try:
                reopen()
            except BaseException as again:
                if not is_store_failure(again):
                    raise
                raise store_failure(again, index.where, server) from again
    raise AssertionError("unreachable")
