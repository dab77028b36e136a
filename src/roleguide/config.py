"""Settings, resolved in one place: explicit argument > ``ROLEGUIDE_*`` env var > default."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

__all__ = ["DEFAULTS", "Settings", "resolve_settings"]

ENV_PREFIX = "ROLEGUIDE_"


@dataclass(frozen=True)
class Settings:
    """Everything a RoleGuide needs to know about where things are and how it behaves.

    >>> Settings(home=Path("/tmp/rg")).home
    PosixPath('/tmp/rg')
    """

    corpus_dir: Path = Path("corpus")
    home: Path = Path(".roleguide")
    top_k: int = 5
    """How many passages the answerer reads and the retriever returns."""
    max_question_chars: int = 2000
    """Longer questions are refused with a message (never silently truncated)."""
    min_support: float = 0.40
    """Below this evidence score the answer abstains; calibrated on evals/questions.yaml."""
    collection: str = "roleguide"
    embed_precision: str = "auto"
    """``float32``, ``bfloat16`` or ``auto`` (bfloat16 where the CPU computes it natively):
    the arithmetic of ingest-time embedding; vectors agree to a cosine of 0.9999."""
    chroma_url: str = ""
    """``http://host:port`` of a Chroma server to use instead of the embedded store."""
    llm: str = ""
    """``openai:<model>`` or ``ollama:<model>``: optional generative answers."""
    llm_base_url: str = ""
    llm_timeout: float = 20.0
    llm_rewrite: bool = True
    """let the LLM rewrite follow-up questions into stand-alone ones"""
    log: bool = True
    """log questions, answers and citations in ``home``/log.sqlite3 (``off``: don't)"""
    admin_token: str = ""
    """lets the web app change the corpus when it listens beyond 127.0.0.1 or shares"""
    max_request_bytes: int = 8 * 2**20
    """The web app refuses request bodies over this size (413)."""


DEFAULTS = Settings()

_ENV_NAMES = {
    "corpus_dir": "CORPUS",
    "home": "HOME",
    "top_k": "TOP_K",
    "max_question_chars": "MAX_QUESTION_CHARS",
    "min_support": "MIN_SUPPORT",
    "collection": "COLLECTION",
    "embed_precision": "EMBED_PRECISION",
    "chroma_url": "CHROMA_URL",
    "llm": "LLM",
    "llm_base_url": "LLM_BASE_URL",
    "llm_timeout": "LLM_TIMEOUT",
    "llm_rewrite": "LLM_REWRITE",
    "log": "LOG",
    "admin_token": "ADMIN_TOKEN",
    "max_request_bytes": "MAX_REQUEST_BYTES",
}


def _coerce(name: str, raw: object) -> object:
    kind = type(getattr(DEFAULTS, name))
    try:
        if kind is Path:
            return Path(str(raw)).expanduser()
        if kind is bool and isinstance(raw, str):
            if raw.strip().lower() not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
                raise ValueError(raw)
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        return kind(raw)
    except (TypeError, ValueError) as e:
        env = ENV_PREFIX + _ENV_NAMES[name]
        raise ValueError(f"{name} (or {env}) must be a {kind.__name__}, got {raw!r}") from e


_COLLECTION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,60}[A-Za-z0-9])?")


def _check(settings: Settings) -> Settings:
    """Refuse values that would only fail later, or silently answer nothing."""
    if settings.top_k < 1:
        raise ValueError(f"top_k (or ROLEGUIDE_TOP_K) must be at least 1, got {settings.top_k}")
    if not _COLLECTION.fullmatch(settings.collection):
        raise ValueError(
            f"collection (or ROLEGUIDE_COLLECTION) must be 1-62 letters, digits, '-' or '_' "
            f"starting and ending with a letter or digit, got {settings.collection!r}"
        )
    if settings.max_request_bytes < 65_536:
        raise ValueError(
            "max_request_bytes (or ROLEGUIDE_MAX_REQUEST_BYTES) must be at least 65536, "
            f"got {settings.max_request_bytes}"
        )
    if settings.llm_timeout <= 0:
        raise ValueError(
            f"llm_timeout (or ROLEGUIDE_LLM_TIMEOUT) must be above 0 seconds, "
            f"got {settings.llm_timeout}"
        )
    return settings


def resolve_settings(**overrides: object) -> Settings:
    """Build Settings from keyword overrides (None means "not given"), then env vars, then defaults.

    >>> resolve_settings(top_k=3).top_k
    3
    """
    unknown = set(overrides) - {f.name for f in fields(Settings)}
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    values: dict[str, object] = {}
    for f in fields(Settings):
        given = overrides.get(f.name)
        if given is None:
            given = os.environ.get(ENV_PREFIX + _ENV_NAMES[f.name]) or None
        if given is not None:
            values[f.name] = _coerce(f.name, given)
    return _check(replace(DEFAULTS, **values))
