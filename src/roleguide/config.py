"""Settings, resolved in one place: explicit argument > ``ROLEGUIDE_*`` env var > default.

pydantic-settings reads the environment and coerces the values; this module only adds the
checks that would otherwise fail later (or silently answer nothing) and turns every refusal
into one ``ConfigError`` naming the setting and its env var.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from roleguide.errors import ConfigError

__all__ = ["DEFAULTS", "ENV_PREFIX", "Settings", "env_name", "resolve_settings"]

ENV_PREFIX = "ROLEGUIDE_"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_COLLECTION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,60}[A-Za-z0-9])?")


class _Refusal(ValueError):
    """A check's own message, naming the setting and its env var (said as it is)."""


class Settings(BaseSettings):
    """Everything a RoleGuide needs to know about where things are and how it behaves.

    Made directly, it reads the ``ROLEGUIDE_*`` env vars too; ``resolve_settings`` is the
    front door (None means "not given", refusals are ``ConfigError``).

    >>> Settings.model_construct(home=Path("/tmp/rg")).home
    PosixPath('/tmp/rg')
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,  # ROLEGUIDE_TOP_K= (set but empty) means "not given"
        extra="forbid",
        frozen=True,
        validate_by_name=True,
    )

    corpus_dir: Path = Field(Path("corpus"), validation_alias=ENV_PREFIX + "CORPUS")
    """The folder of articles (env ``ROLEGUIDE_CORPUS``, the one name that differs)."""
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
    embed_workers: int = Field(0, ge=0)
    """Ingest-time embedding workers, one torch thread each (0: one per core, at most 4)."""
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

    @field_validator("corpus_dir", "home", mode="before")
    @classmethod
    def _expand_user(cls, raw: Any) -> Path:
        return Path(str(raw)).expanduser()

    @field_validator("llm_rewrite", "log", mode="before")
    @classmethod
    def _switch(cls, raw: Any) -> Any:
        """on/off as the env vars have always taken it: 1/0, true/false, yes/no, on/off."""
        if not isinstance(raw, str):
            return raw
        word = raw.strip().lower()
        if word not in _TRUE | _FALSE:
            raise ValueError(raw)
        return word in _TRUE

    @field_validator("chroma_url")
    @classmethod
    def _server(cls, url: str) -> str:
        """A Chroma server's address is checked here, not when the index first opens (where
        a malformed one read as a damaged manifest)."""
        if not url:
            return url
        parsed = urlparse(url if "://" in url else f"http://{url}")
        try:
            parsed.port  # noqa: B018  (raises ValueError for a port that is not a number)
        except ValueError:
            parsed = parsed._replace(netloc="")
        if not parsed.hostname:
            raise _Refusal(
                f"chroma_url (or ROLEGUIDE_CHROMA_URL) must be http://host:port, got {url!r}"
            )
        return url

    @model_validator(mode="after")
    def _check(self) -> Settings:
        """Refuse values that would only fail later, or silently answer nothing."""
        if self.top_k < 1:
            raise _Refusal(f"top_k (or ROLEGUIDE_TOP_K) must be at least 1, got {self.top_k}")
        if not _COLLECTION.fullmatch(self.collection):
            raise _Refusal(
                f"collection (or ROLEGUIDE_COLLECTION) must be 1-62 letters, digits, '-' or '_' "
                f"starting and ending with a letter or digit, got {self.collection!r}"
            )
        if self.max_request_bytes < 65_536:
            raise _Refusal(
                "max_request_bytes (or ROLEGUIDE_MAX_REQUEST_BYTES) must be at least 65536, "
                f"got {self.max_request_bytes}"
            )
        if self.llm_timeout <= 0:
            raise _Refusal(
                f"llm_timeout (or ROLEGUIDE_LLM_TIMEOUT) must be above 0 seconds, "
                f"got {self.llm_timeout}"
            )
        return self


DEFAULTS = Settings.model_construct()
"""The defaults alone, no environment read."""


def env_name(setting: str) -> str:
    """The env var of a setting: ``top_k`` → ``ROLEGUIDE_TOP_K``, ``corpus_dir`` →
    ``ROLEGUIDE_CORPUS``."""
    return ENV_PREFIX + ("CORPUS" if setting == "corpus_dir" else setting.upper())


def _config_error(e: ValidationError) -> ConfigError:
    """The first refusal, as one line that names the setting and its env var."""
    first = e.errors(include_url=False)[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, _Refusal):
        return ConfigError(str(cause))
    name = str(first["loc"][0])
    if name == ENV_PREFIX + "CORPUS":  # read from the env var under its alias
        name = "corpus_dir"
    bound = (first.get("ctx") or {}).get("ge")
    if first["type"] == "greater_than_equal" and bound is not None:
        return ConfigError(
            f"{name} (or {env_name(name)}) must be at least {bound}, got {first['input']!r}"
        )
    kind = Settings.model_fields[name].annotation
    kind_name = getattr(kind, "__name__", str(kind))
    article = "an" if kind_name[:1] in "aeiou" else "a"
    return ConfigError(
        f"{name} (or {env_name(name)}) must be {article} {kind_name}, got {first['input']!r}"
    )


def resolve_settings(**overrides: object) -> Settings:
    """Build Settings from keyword overrides (None means "not given"), then env vars, then defaults.

    >>> resolve_settings(top_k=3).top_k
    3
    """
    unknown = set(overrides) - set(Settings.model_fields)
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    given: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as e:
        raise _config_error(e) from e
