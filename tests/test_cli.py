"""The roleguide command: fast help, one-line errors with exit status 2, JSON answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from roleguide.cli import app

runner = CliRunner()


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "roleguide.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_help_does_not_import_torch():
    code = (
        "import sys\n"
        "from roleguide.cli import main\n"
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


def test_ingest_reports_an_up_to_date_index(cli_env):
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    assert "added 0" in result.stdout and "unchanged 49" in result.stdout


def test_chat_follows_up(cli_env):
    session = "Who handles customs compliance?\nAnd what degree do they usually have?\n/quit\n"
    result = runner.invoke(app, ["chat"], input=session)
    assert result.exit_code == 0, result.output
    assert "The Logistics Manager" in result.stdout
    assert "degrees in logistics" in result.stdout
    assert "searched for: And what degree do Logistics Managers usually have?" in result.stdout
