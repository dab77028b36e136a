"""Replace a directory as one step, so a reader sees the old one or the new one, never half.

Used for the BM25 index folders (``lexical``) and the ONNX question model (``onnx_export``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["replace_directory"]


def replace_directory(staging: Path, target: Path) -> None:
    """Move the finished ``staging`` folder to ``target``, replacing what was there.

    Two renames on one file system: the old folder is set aside as ``<target>.old`` first
    (a leftover from an earlier crash is removed), then removed once ``target`` is the new.
    """
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
