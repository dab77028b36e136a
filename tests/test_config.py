"""Settings: argument > ``ROLEGUIDE_*`` env var > default, and every refusal is one
``ConfigError`` that names the setting and its env var."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from roleguide.config import DEFAULTS, Settings, env_name, resolve_settings
from roleguide.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.upper().startswith("ROLEGUIDE_"):
            monkeypatch.delenv(name)


def test_argument_beats_env_beats_default(monkeypatch):
    assert resolve_settings().top_k == DEFAULTS.top_k == 5
    monkeypatch.setenv("ROLEGUIDE_TOP_K", "7")
    assert resolve_settings().top_k == 7
    assert resolve_settings(top_k=3).top_k == 3
    assert resolve_settings(top_k=None).top_k == 7  # None: not given


def test_every_setting_reads_its_env_var(monkeypatch):
    values = {
        "corpus_dir": ("/tmp/articles", Path("/tmp/articles")),
        "home": ("/tmp/rg-home", Path("/tmp/rg-home")),
        "top_k": ("9", 9),
        "max_question_chars": ("300", 300),
        "min_support": ("0.55", 0.55),
        "collection": ("other-one", "other-one"),
        "embed_precision": ("float32", "float32"),
        "embed_workers": ("2", 2),
        "chroma_url": ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        "llm": ("ollama:tiny", "ollama:tiny"),
        "llm_base_url": ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
        "llm_timeout": ("7.5", 7.5),
        "llm_rewrite": ("off", False),
        "log": ("no", False),
        "admin_token": ("s3cret", "s3cret"),
        "max_request_bytes": ("100000", 100_000),
    }
    assert set(values) == set(Settings.model_fields)
    for name, (raw, _) in values.items():
        monkeypatch.setenv(env_name(name), raw)
    settings = resolve_settings()
    for name, (_, expected) in values.items():
        assert getattr(settings, name) == expected, name
    assert env_name("corpus_dir") == "ROLEGUIDE_CORPUS"


def test_an_empty_env_var_means_not_given_and_paths_expand_the_home(monkeypatch):
    monkeypatch.setenv("ROLEGUIDE_TOP_K", "")
    monkeypatch.setenv("ROLEGUIDE_HOME", "~/rg")
    settings = resolve_settings()
    assert settings.top_k == 5 and settings.home == Path("~/rg").expanduser()


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("ROLEGUIDE_TOP_K", "many", "top_k (or ROLEGUIDE_TOP_K) must be an int, got 'many'"),
        ("ROLEGUIDE_TOP_K", "0", "top_k (or ROLEGUIDE_TOP_K) must be at least 1, got 0"),
        ("ROLEGUIDE_LOG", "sometimes", "log (or ROLEGUIDE_LOG) must be a bool, got 'sometimes'"),
        ("ROLEGUIDE_MIN_SUPPORT", "high", "min_support (or ROLEGUIDE_MIN_SUPPORT) must be a"),
        ("ROLEGUIDE_COLLECTION", "a/b", "collection (or ROLEGUIDE_COLLECTION) must be 1-62"),
        ("ROLEGUIDE_LLM_TIMEOUT", "0", "must be above 0 seconds"),
        ("ROLEGUIDE_MAX_REQUEST_BYTES", "10", "must be at least 65536"),
        (
            "ROLEGUIDE_EMBED_WORKERS",
            "-1",
            "embed_workers (or ROLEGUIDE_EMBED_WORKERS) must be at least 0",
        ),
        ("ROLEGUIDE_CHROMA_URL", "http://", "ROLEGUIDE_CHROMA_URL) must be http://host:port"),
    ],
)
def test_a_bad_value_is_one_config_error(monkeypatch, env, value, message):
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as raised:
        resolve_settings()
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert isinstance(raised.value, ValueError)  # callers that catch ValueError still do


def test_unknown_settings_are_a_type_error():
    with pytest.raises(TypeError, match="unknown setting"):
        resolve_settings(top_kk=3)


def test_settings_are_frozen():
    with pytest.raises(ValueError, match="frozen"):
        resolve_settings().top_k = 2  # type: ignore[misc]


def test_the_cli_says_a_config_error_in_one_line_for_every_command(monkeypatch, tmp_path):
    """One boundary: the same refusal, exit 2, whichever command meets it first."""
    from roleguide.app.cli.main import app

    monkeypatch.setenv("ROLEGUIDE_TOP_K", "0")
    monkeypatch.setenv("ROLEGUIDE_HOME", str(tmp_path))
    for args in (["ask", "Who buys?"], ["chat"], ["roles"], ["sources"], ["profile", "x"]):
        done = CliRunner().invoke(app, args)
        lines = done.output.strip().splitlines()
        assert done.exit_code == 2, (args, done.output)
        assert lines == ["Error: top_k (or ROLEGUIDE_TOP_K) must be at least 1, got 0"], args
