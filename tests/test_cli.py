"""The roleguide command: fast help, one-line errors with exit status 2, JSON answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from roleguide.app.cli.main import app

runner = CliRunner()


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "roleguide", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_help_does_not_import_torch():
    code = (
        "import sys\n"
        "from roleguide.app.cli.main import main\n"
        "sys.argv = ['roleguide', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch loaded'\n"
        "assert 'chromadb' not in sys.modules, 'chromadb loaded'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "ingest" in done.stdout and done.stdout.strip().endswith("ok")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", ""], "the question is empty"),
        (["ask", "   "], "the question is empty"),
        (["ask", "x" * 2001], "2,001 characters"),
        (["ask", "--corpus", "/no/such/folder", "Who buys?"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    done = run_cli(*args, env={"ROLEGUIDE_HOME": str(tmp_path)})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0]
    assert "Traceback" not in done.stderr


@pytest.fixture
def cli_env(built_home, corpus_dir, monkeypatch):
    monkeypatch.setenv("ROLEGUIDE_HOME", str(built_home))
    monkeypatch.setenv("ROLEGUIDE_CORPUS", str(corpus_dir))


def test_ask_json(cli_env):
    result = runner.invoke(app, ["ask", "--json", "Who handles customs compliance?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["citations"][0]["section"] == "Regulatory Compliance"
    assert data["text"].startswith("The Logistics Manager")
    assert data["abstained"] is False


def test_ask_prints_answer_and_sources(cli_env):
    result = runner.invoke(app, ["ask", "What software do procurement managers use?"])
    assert result.exit_code == 0, result.output
    assert "[1]" in result.stdout and "Technology Utilization" in result.stdout


def test_ingest_reports_an_up_to_date_index(cli_env, corpus_chunk_count):
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    assert "added 0" in result.stdout and f"unchanged {corpus_chunk_count}" in result.stdout


def test_chat_follows_up(cli_env):
    session = "Who handles customs compliance?\nAnd what degree do they usually have?\n/quit\n"
    result = runner.invoke(app, ["chat"], input=session)
    assert result.exit_code == 0, result.output
    assert "The Logistics Manager" in result.stdout
    assert "degrees in logistics" in result.stdout
    assert "searched for: And what degree do Logistics Managers usually have?" in result.stdout


@pytest.mark.slow  # a fresh `roleguide` process loads the real model
def test_quotes_are_printed_verbatim_not_as_emoji(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "accounts.md").write_text(
        "---\ntitle: Accounts\nroles: [Operations Manager]\n---\nAccounts\n\n"
        "Access: The Operations Manager keeps the line root:x:0 :smile: in the ledger.\n"
    )
    done = run_cli(
        "ask",
        "What does the Operations Manager keep in the ledger?",
        env={"ROLEGUIDE_HOME": str(tmp_path / "home"), "ROLEGUIDE_CORPUS": str(corpus)},
    )
    assert done.returncode == 0, done.stderr
    assert "root:x:0 :smile:" in done.stdout and "❌" not in done.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ROLEGUIDE_TOP_K": "0"}, "at least 1"),
        ({"ROLEGUIDE_TOP_K": "-3"}, "at least 1"),
        ({"ROLEGUIDE_COLLECTION": "a/b c"}, "ROLEGUIDE_COLLECTION"),
    ],
)
def test_bad_settings_are_one_line(env, message, tmp_path):
    done = run_cli("ask", "Who buys?", env={"ROLEGUIDE_HOME": str(tmp_path), **env})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr


@pytest.mark.slow  # a fresh `roleguide` process
def test_an_empty_corpus_says_why_it_cannot_answer(tmp_path):
    (tmp_path / "corpus").mkdir()
    env = {"ROLEGUIDE_HOME": str(tmp_path / "home"), "ROLEGUIDE_CORPUS": str(tmp_path / "corpus")}
    done = run_cli("ask", "Who buys raw materials?", env=env)
    assert done.returncode == 2
    assert "no readable articles" in done.stderr and "roleguide ingest" in done.stderr
