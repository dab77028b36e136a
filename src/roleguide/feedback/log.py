"""The question log: questions, answers, citations, abstentions and 👍/👎, in SQLite.

One file in the roleguide home (``log.sqlite3``), in WAL mode with a busy timeout, so
several processes (web workers, the CLI) write to it at once without losing a row.
``ROLEGUIDE_LOG=off`` stops questions being logged; feedback a user gives is still kept.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from roleguide.errors import RoleGuideError
from roleguide.models import Answer

__all__ = ["LOG_FILE", "MAX_COMMENT_CHARS", "LoggedQuestion", "QuestionLog", "new_answer_id"]

log = logging.getLogger("roleguide.feedback.log")
LOG_FILE = "log.sqlite3"
MAX_COMMENT_CHARS = 1000
BUSY_TIMEOUT_MS = 30_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    answer_id TEXT PRIMARY KEY,
    asked_at TEXT NOT NULL,
    question TEXT NOT NULL,
    query TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    citations TEXT NOT NULL,
    answerer TEXT NOT NULL,
    seconds REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL,
    given_at TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_answer ON feedback (answer_id);
"""


def new_answer_id() -> str:
    return uuid.uuid4().hex


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class LoggedQuestion:
    """A question that went unanswered or was thumbed down (the material of ``gaps``)."""

    question: str
    asked_at: str
    abstained: bool
    thumbs_down: bool


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the log in WAL mode (kept in the file, so once is enough). Switching takes an
    exclusive lock and SQLite answers "locked" at once, without its busy wait, while other
    processes hold it: retry until they let go, within the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class QuestionLog:
    """The SQLite log in ``home``; every call opens its own short connection."""

    def __init__(self, home: Path, *, enabled: bool = True) -> None:
        self.path = Path(home) / LOG_FILE
        self.enabled = enabled
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)) as conn:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                if not self._ready:
                    _use_wal(conn)
                    conn.executescript(_SCHEMA)
                    self._ready = True
                with conn:  # one transaction, committed on leaving
                    yield conn
        except (sqlite3.Error, OSError) as e:
            raise RoleGuideError(
                f"cannot write the question log {self.path} ({e}); check the folder is "
                "writable, or set ROLEGUIDE_LOG=off"
            ) from e

    def record(self, answer: Answer) -> None:
        """Log one final answer (nothing when logging is off). A log that cannot be written
        costs a warning, never the answer."""
        if not self.enabled or not answer.answer_id:
            return
        try:
            self._insert(answer)
        except RoleGuideError as e:
            log.warning("question not logged: %s", e)

    def _insert(self, answer: Answer) -> None:
        citations = json.dumps(
            [{"source": c.source, "section": c.section, "quote": c.quote} for c in answer.citations]
        )
        with self._connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer.answer_id,
                    _now(),
                    answer.question,
                    answer.query,
                    answer.text,
                    int(answer.abstained),
                    citations,
                    answer.answerer,
                    answer.seconds,
                ),
            )

    def feedback(self, answer_id: str, helpful: bool, comment: str = "", question: str = "") -> int:
        """Store a 👍 (``helpful``) or 👎 with an optional comment; returns its row id."""
        if not answer_id:
            raise RoleGuideError("feedback needs the answer it is about (answer.answer_id)")
        comment = " ".join((comment or "").split())[:MAX_COMMENT_CHARS]
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO feedback (answer_id, given_at, helpful, comment, question) "
                "VALUES (?, ?, ?, ?, ?)",
                (answer_id, _now(), int(bool(helpful)), comment, question if self.enabled else ""),
            )
            return int(cursor.lastrowid or 0)

    def comment(self, feedback_id: int, comment: str) -> None:
        """Attach (or replace) the comment of feedback already given."""
        comment = " ".join((comment or "").split())[:MAX_COMMENT_CHARS]
        with self._connect() as conn:
            conn.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment, feedback_id))

    def unanswered(self, since: str | None = None) -> list[LoggedQuestion]:
        """Questions abstained on, or whose latest feedback is 👎, oldest first."""
        if not self.path.exists():
            return []
        query = """
            SELECT q.question, q.asked_at, q.abstained,
                   COALESCE((SELECT f.helpful = 0 FROM feedback f WHERE f.answer_id = q.answer_id
                             ORDER BY f.id DESC LIMIT 1), 0)
            FROM questions q WHERE q.asked_at >= ? ORDER BY q.asked_at
        """
        with self._connect() as conn:
            rows = conn.execute(query, (since or "",)).fetchall()
            orphans = conn.execute(  # 👎 on answers whose question was not logged
                "SELECT question, given_at FROM feedback f WHERE helpful = 0 AND question != '' "
                "AND given_at >= ? AND NOT EXISTS "
                "(SELECT 1 FROM questions q WHERE q.answer_id = f.answer_id)",
                (since or "",),
            ).fetchall()
        found = [LoggedQuestion(q, at, bool(a), bool(d)) for q, at, a, d in rows if a or d]
        found += [LoggedQuestion(q, at, False, True) for q, at in orphans]
        return sorted(found, key=lambda r: r.asked_at)

    def counts(self) -> dict[str, int]:
        """Rows per table (for tests and ``roleguide gaps`` headers)."""
        if not self.path.exists():
            return {"questions": 0, "feedback": 0}
        with self._connect() as conn:
            return {
                t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("questions", "feedback")
            }
