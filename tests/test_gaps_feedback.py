"""The question log (SQLite, many writers), feedback, and `roleguide gaps` on real vectors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from roleguide.feedback.log import QuestionLog
from roleguide.models import Answer

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))
from calibrate_gaps import load_kinds, pair_agreement  # noqa: E402

WRITER = """
import sys, time
from pathlib import Path
from roleguide.feedback.log import QuestionLog
home, n, start = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
log = QuestionLog(home)
while time.time() < start:
    time.sleep(0.005)
for i in range(n):
    log.feedback(f"{sys.argv[4]}-{i}", i % 2 == 0, f"comment {i}", "a question")
"""


@pytest.mark.slow
def test_twenty_concurrent_writer_processes_lose_no_row(tmp_path):
    writers, each = 20, 25
    start = time.time() + 4  # all of them begin writing at the same moment
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), str(each), str(start), f"w{w}"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(writers)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    with sqlite3.connect(tmp_path / "log.sqlite3") as conn:
        rows = conn.execute("SELECT answer_id FROM feedback").fetchall()
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert len(rows) == writers * each
    assert len({r[0] for r in rows}) == writers * each  # every one distinct: 0 lost


def _abstained(question: str, n: int) -> Answer:
    return Answer(
        question=question,
        query=question,
        text="The articles don't cover that.",
        abstained=True,
        answer_id=f"a{n}",
    )


def _grouped(guide, name: str, tmp_path: Path):
    from roleguide.feedback.gaps import domain_vector, gap_report

    truth, texts = load_kinds(name)
    log = QuestionLog(tmp_path / name)
    for n, q in enumerate(texts):
        log.record(_abstained(q, n))
    report = gap_report(log, guide.index.embeddings, domain=domain_vector(guide.index))
    index = {q: i for i, q in enumerate(texts)}
    groups = [[index[q] for q in g.questions] for g in report.groups]
    return report, truth, groups


def test_gaps_groups_thirty_questions_of_five_kinds_into_five_groups(guide, tmp_path):
    report, truth, groups = _grouped(guide, "gaps_dev", tmp_path)
    assert report.questions == 30 and len(report.groups) == 5
    assert sorted({truth[i] for i in g}.__len__() for g in groups) == [1] * 5
    assert [g.count for g in report.groups] == [6] * 5


def test_gaps_threshold_holds_on_held_out_kinds(guide, tmp_path):
    _, truth, groups = _grouped(guide, "gaps_test", tmp_path)
    agreement = pair_agreement(truth, groups)
    print(f"\nheld-out set: {len(groups)} groups for 5 kinds, pair agreement {agreement:.3f}")
    assert 4 <= len(groups) <= 6 and agreement >= 0.9


@pytest.mark.slow
def test_log_feedback_gaps_and_draft_export_end_to_end(tmp_path, corpus_dir, built_home):
    from articles_fixtures import copy_built

    from roleguide import RoleGuide
    from roleguide.evaluation import QuestionSetError
    from roleguide.evaluation.schema import load_question_set

    corpus, home = copy_built(corpus_dir, built_home, tmp_path)
    guide = RoleGuide(corpus_dir=corpus, home=home)
    for q in (
        "How much does a logistics manager earn?",
        "What salary do procurement managers get?",
    ):
        assert guide.ask(q).abstained
    answered = guide.ask("Who handles customs compliance?")
    assert not answered.abstained and answered.answer_id
    fid = guide.feedback(answered, helpful=False, comment="  I wanted\nthe legal side ")
    assert fid > 0
    guide.log.comment(fid, "I wanted the legal side")
    with sqlite3.connect(home / "log.sqlite3") as conn:
        stored = conn.execute("SELECT question, abstained, citations FROM questions").fetchall()
        fb = conn.execute("SELECT helpful, comment FROM feedback").fetchall()
    assert len(stored) == 3 and sum(r[1] for r in stored) == 2
    assert "customs" in json.dumps([json.loads(r[2]) for r in stored])
    assert fb == [(0, "I wanted the legal side")]

    report = guide.gaps()
    assert report.questions == 3
    assert report.groups[0].count == 2 and "earn" in " ".join(report.groups[0].questions)
    assert report.groups[1].thumbs_down == 1
    assert guide.gaps(since="2999-01-01").questions == 0

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    draft = tmp_path / "questions.yaml"
    args = ["gaps", "--home", str(home), "--corpus", str(corpus)]
    done = subprocess.run(
        [sys.executable, "-m", "roleguide", *args, "--json", "--export", str(draft)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert [g["count"] for g in json.loads(done.stdout)["groups"]] == [2, 1]
    cases = yaml.safe_load(draft.read_text())["cases"]
    assert len(cases) == 2 and cases[0]["evidence"] == [] and cases[0]["question"]
    with pytest.raises(QuestionSetError, match=r"gap-01.*evidence"):
        load_question_set(draft)
    markdown = subprocess.run(
        [sys.executable, "-m", "roleguide", *args, "--markdown"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert "| 1 | 2 |" in markdown.stdout


def test_log_off_keeps_questions_out_but_feedback_in(tmp_path, monkeypatch, guide):
    monkeypatch.setenv("ROLEGUIDE_LOG", "off")
    from roleguide.config import resolve_settings

    assert resolve_settings().log is False
    log = QuestionLog(tmp_path, enabled=resolve_settings().log)
    log.record(_abstained("What salary?", 1))
    log.feedback("a1", False, "bad", "What salary?")
    assert log.counts() == {"questions": 0, "feedback": 1}
    with sqlite3.connect(tmp_path / "log.sqlite3") as conn:
        assert conn.execute("SELECT question FROM feedback").fetchone() == ("",)


def test_since_accepts_dates_ages_and_refuses_the_rest():
    from roleguide.errors import RoleGuideError
    from roleguide.feedback.gaps import parse_since

    assert parse_since("2026-11-01") == "2026-11-01T00:00:00.000000Z"
    assert parse_since("7d") < parse_since("1h")
    with pytest.raises(RoleGuideError, match="7d"):
        parse_since("last tuesday")


def test_gap_sets_are_thirty_questions_of_five_kinds():
    for name in ("gaps_dev", "gaps_test"):
        kinds = yaml.safe_load((DATA / f"{name}.yaml").read_text())
        assert len(kinds) == 5 and all(len(qs) == 6 for qs in kinds.values())


def test_the_apps_own_probes_stay_out_of_the_log(tmp_path, corpus_dir, built_home):
    """Example checks, follow-up suggestions and the warm-up ask the guide too; only what
    people ask is logged, so `gaps` reports their questions, not the app's."""
    from articles_fixtures import copy_built

    from roleguide import RoleGuide
    from roleguide.app.web.ui import build_app

    corpus, home = copy_built(corpus_dir, built_home, tmp_path)
    guide = RoleGuide(corpus_dir=corpus, home=home)
    assert guide.ask("What is the salary of a fleet manager?", record=False).abstained
    build_app(guide)  # checks each example question against the corpus
    assert guide.log.counts()["questions"] == 0
    guide.ask("What is the salary of a fleet manager?")
    assert guide.log.counts()["questions"] == 1
