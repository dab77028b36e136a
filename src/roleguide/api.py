"""The one public façade: ``RoleGuide``. The CLI, the web app and the evals all call it.

>>> from roleguide import RoleGuide
>>> guide = RoleGuide()                                   # doctest: +SKIP
>>> answer = guide.ask("Who handles customs compliance?")  # doctest: +SKIP
>>> answer.citations[0].section                            # doctest: +SKIP
'Regulatory Compliance'
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from roleguide.ask.answer import ExtractiveAnswerer
from roleguide.ask.conversation import Message, resolve_followup
from roleguide.ask.query import clean_question, expand_intent, is_comparison
from roleguide.ask.retrieval import HybridRetriever, RetrieverMode
from roleguide.ask.roles import RoleCatalog, load_aliases
from roleguide.careers.tools import CareerMap
from roleguide.config import Settings, resolve_settings
from roleguide.errors import (
    CorpusError,
    IndexLockedError,
    IndexMismatchError,
    InvalidQuestionError,
    RoleGuideError,
    StorageFullError,
)
from roleguide.feedback.log import QuestionLog, new_answer_id
from roleguide.ingest.chunks import CHUNKER_VERSION
from roleguide.ingest.corpus import corpus_files
from roleguide.ingest.pipeline import IngestReport, Progress, corpus_signature, ingest
from roleguide.models import (
    AddResult,
    Answer,
    ArticleInfo,
    Comparison,
    GapReport,
    MatchResult,
    RemoveResult,
    RoleInfo,
    RoleProfile,
)
from roleguide.store.generations import is_store_failure, store_failure
from roleguide.store.index import VectorIndex
from roleguide.store.lexical import tokenize

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["RoleGuide"]

log = logging.getLogger("roleguide")
MAX_HISTORY_MESSAGES = 20
RELOAD_CHECK_SECONDS = 5.0
_COMPARISON_WORDS = frozenset(
    tokenize(
        [
            "difference differences different differ compare comparison versus vs between "
            "main key contrast distinguish better choose"
        ]
    )[0]
)
MAX_HISTORY_CHARS = 4000


def _check_history(history: Sequence[Message] | None) -> list[Message]:
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise InvalidQuestionError("history must be a list of {'role', 'content'} messages")
    out = []
    history = list(history)[-MAX_HISTORY_MESSAGES:]  # older turns cannot change the role carried
    for i, message in enumerate(history):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise InvalidQuestionError(
                f"history[{i}] must be a dict with role 'user' or 'assistant' and a content string"
            )
        content = message.get("content")
        content = content[:MAX_HISTORY_CHARS] if isinstance(content, str) else ""
        out.append({"role": message["role"], "content": content})
    return out


MIN_COMPARED_ROWS = 2  # a comparison table needs this many facets stated for both roles


def _compared_rows(answer: Answer) -> int:
    rows = answer.comparison.rows if answer.comparison is not None else ()
    return sum(all(c.citation is not None for c in row.cells) for row in rows)


def _generation(manifest: dict) -> tuple:
    """What identifies one complete ingest: its BM25 index and its store folder."""
    return (manifest.get("built"), manifest.get("store"))


class RoleGuide:
    """Ask questions about operations, logistics and procurement roles; get cited answers.

    Builds (or brings up to date) the index on first use. Arguments override the
    ``ROLEGUIDE_*`` environment variables, which override the defaults.

    Args:
        corpus_dir: folder of articles (default ``corpus/``, env ``ROLEGUIDE_CORPUS``).
        home: data directory for the index (default ``.roleguide/``, env ``ROLEGUIDE_HOME``).
        embeddings: a LangChain ``Embeddings``; default the bundled all-MiniLM-L6-v2.
        chroma_url: a Chroma server (``http://host:port``, env ``ROLEGUIDE_CHROMA_URL``)
            to share one index between processes; default the embedded store in ``home``.
        llm: ``openai:<model>`` / ``ollama:<model>`` (env ``ROLEGUIDE_LLM``) or a LangChain
            chat model: fluent answers, verified against the passages (see ``llm``).
        embed_precision: ``auto`` (default), ``float32`` or ``bfloat16`` (env
            ``ROLEGUIDE_EMBED_PRECISION``): the arithmetic of ingest-time embedding.
        auto_ingest: build or refresh the index when it is missing or the corpus changed.
    """

    def __init__(
        self,
        corpus_dir: str | Path | None = None,
        home: str | Path | None = None,
        *,
        embeddings: Embeddings | None = None,
        top_k: int | None = None,
        min_support: float | None = None,
        retriever: RetrieverMode = "hybrid",
        chroma_url: str | None = None,
        llm: str | BaseChatModel | None = None,
        embed_precision: str | None = None,
        auto_ingest: bool = True,
    ) -> None:
        self.settings: Settings = resolve_settings(
            corpus_dir=corpus_dir,
            home=home,
            top_k=top_k,
            min_support=min_support,
            chroma_url=chroma_url,
            llm=llm if isinstance(llm, str) else None,
            embed_precision=embed_precision,
        )
        self._chat_model: BaseChatModel | None = None if isinstance(llm, str) else llm
        if self._chat_model is None and self.settings.llm:
            from roleguide.ask.llm import load_chat_model

            self._chat_model = load_chat_model(
                self.settings.llm, self.settings.llm_base_url or None, self.settings.llm_timeout
            )
        self.llm_answerer = None
        if embeddings is None:  # questions via ONNX (no torch) once ingest has exported it
            from roleguide.store.embeddings import BundledModel

            embeddings = BundledModel(self.settings.embed_precision, self.settings.home)
        self.index = VectorIndex(
            self.settings.home, embeddings, self.settings.collection, self.settings.chroma_url
        )
        self._mode: RetrieverMode = retriever
        self._query_vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.RLock()
        self._checked = time.monotonic()
        self._stamp: tuple | None = None
        self.manifest: dict = {}
        self.last_ingest: IngestReport | None = None
        self.log = QuestionLog(self.settings.home, enabled=self.settings.log)
        if auto_ingest:
            self.refresh()

    # -- index lifecycle ---------------------------------------------------------------
    def is_stale(self) -> bool:
        """True when the corpus folder differs from what the index was built from."""
        manifest = self.index.manifest()
        if manifest is None:
            return True
        if self.settings.chroma_url and not Path(self.settings.corpus_dir).is_dir():
            return False  # a replica without the corpus serves the shared index as it is
        return manifest.get("signature") != corpus_signature(corpus_files(self.settings.corpus_dir))

    def _outdated(self) -> bool:
        """An index of this model in an older roleguide format (rebuilt by ``ingest``)."""
        manifest = self.index.manifest()
        return bool(
            manifest
            and manifest.get("model") == self.index.model_id
            and manifest.get("chunker") != CHUNKER_VERSION
        )

    def refresh(self, *, auto_ingest: bool = True) -> None:
        """Open the index, ingesting first when it is missing or stale (and allowed to)."""
        if auto_ingest and (self.is_stale() or self._outdated()):
            try:
                self.ingest()
            except (IndexLockedError, StorageFullError) as e:
                if self.index.manifest() is None:
                    raise
                log.warning("the index could not be updated (%s); using the current one", e)
        try:
            stamp = self.index.manifest_stamp()  # before reading: a newer one is noticed
            self.manifest = self.index.open()
            self._stamp = stamp
        except IndexMismatchError:
            if not auto_ingest or self.index.manifest() is None:
                raise
            # e.g. a lost BM25 index under an intact store: ingest repairs what it can and
            # embeds only what is missing; what it cannot repair, it reports itself.
            self.ingest()
            return
        source_roles = {s: list(r) for s, r in self.manifest.get("roles", {}).items()}
        roles = [r for rs in source_roles.values() for r in rs]
        self.catalog = RoleCatalog(
            roles,
            load_aliases(self.settings.corpus_dir),
            mentioned=self.manifest.get("mentioned", ()),
            abbreviations=self.manifest.get("abbreviations", {}),
            found=[r for rs in self.manifest.get("found_roles", {}).values() for r in rs],
        )
        self.retriever = HybridRetriever(index=self.index, k=self.settings.top_k, mode=self._mode)
        self.answerer = ExtractiveAnswerer(
            self.index, self.catalog, self.settings.min_support, source_roles
        )
        self.careers = CareerMap(self.index, self.catalog, source_roles)
        if self._chat_model is not None:
            from roleguide.ask.llm import LLMAnswerer

            label = self.settings.llm or type(self._chat_model).__name__
            self.llm_answerer = LLMAnswerer(
                self._chat_model, self.answerer, label, timeout=self.settings.llm_timeout
            )

    def ingest(self, *, rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        """Bring the index in line with the corpus folder; returns what changed."""
        report = ingest(self.index, self.settings.corpus_dir, rebuild=rebuild, progress=progress)
        self.last_ingest = report
        self.refresh(auto_ingest=False)
        return report

    def _ready(self) -> None:
        if not self.manifest:
            self.refresh(auto_ingest=False)

    # -- asking ------------------------------------------------------------------------
    def _follow_ingests(self) -> None:
        """Pick up an ingest finished by another process: before every question with the
        embedded store (one ``stat`` of the manifest), every few seconds with a server."""
        if self.settings.chroma_url:
            now = time.monotonic()
            if now - self._checked < RELOAD_CHECK_SECONDS:
                return
            self._checked = now
        else:
            stamp = self.index.manifest_stamp()
            if stamp == self._stamp:
                return
        try:
            latest = self.index.manifest()
        except IndexMismatchError:
            return  # keep serving what is loaded; the writer will finish or be re-run
        except BaseException as e:  # a Chroma server that stopped answering
            if not is_store_failure(e):
                raise
            raise store_failure(e, self.index.where, self.settings.chroma_url) from e
        if latest and _generation(latest) != _generation(self.manifest):
            with self._lock:
                if _generation(latest) != _generation(self.manifest):
                    self.refresh(auto_ingest=False)
        elif not self.settings.chroma_url:
            self._stamp = stamp  # rewritten, same index (its question model noted): one look

    def _reopen(self) -> None:
        """Open the index afresh (a store under us was replaced, or stopped answering)."""
        with self._lock:
            self.index.close()
            self.refresh(auto_ingest=False)

    def _first_answers(self, question: str, history, deadline: float) -> Iterator[Answer]:
        """Retrieve and start answering, once more from a freshly opened index if the store
        fails under us (another process replaced it, or a server restarted)."""
        for attempt in (1, 2):
            try:
                return self._answers(question, history, deadline)
            except RoleGuideError:
                raise
            except BaseException as e:
                if not is_store_failure(e):
                    raise
                if attempt == 2:
                    raise store_failure(e, self.index.where, self.settings.chroma_url) from e
                log.warning("the index failed under a question (%s); reopening it", e)
                try:
                    self._reopen()
                except BaseException as again:
                    if not is_store_failure(again):
                        raise
                    raise store_failure(
                        again, self.index.where, self.settings.chroma_url
                    ) from again
        raise AssertionError("unreachable")

    def query_vector(self, query: str) -> list[float]:
        with self._lock:
            cached = self._query_vectors.get(query)
            if cached is not None:
                self._query_vectors.move_to_end(query)
                return cached
        vector = self.index.embeddings.embed_query(query)
        with self._lock:
            self._query_vectors[query] = vector
            if len(self._query_vectors) > 512:
                self._query_vectors.popitem(last=False)
        return vector

    def with_retriever(self, mode: RetrieverMode) -> RoleGuide:
        """The same guide (same index, model and answerer) retrieving with ``mode`` only."""
        self._ready()
        other = copy.copy(self)
        other._mode = mode
        other._query_vectors = OrderedDict()  # so each variant's latency includes embedding
        other.retriever = HybridRetriever(index=self.index, k=self.settings.top_k, mode=mode)
        return other

    def effective_query(self, question: str, history: Sequence[Message] | None = None) -> str:
        """The query ``ask`` would search: follow-ups resolved, role aliases normalised."""
        return self._resolve(clean_question(question, self.settings.max_question_chars), history)

    def _resolve(
        self, question: str, history: Sequence[Message] | None, deadline: float | None = None
    ) -> str:
        self._ready()
        checked = _check_history(history)
        resolved = None
        if checked and self._chat_model is not None and self.settings.llm_rewrite:
            from roleguide.ask.llm import rewrite_followup

            if deadline is None:
                deadline = time.monotonic() + self.settings.llm_timeout
            seconds = deadline - time.monotonic()
            resolved = rewrite_followup(self._chat_model, question, checked, seconds)
        if resolved is None:
            resolved = resolve_followup(question, checked, self.catalog)
        return expand_intent(self.catalog.expand_abbreviations(self.catalog.normalise(resolved)))

    def ask_stream(
        self, question: str, history: Sequence[Message] | None = None, *, record: bool = True
    ) -> Iterator[Answer]:
        """Like ``ask``, yielding the answer as it grows (verified sentence by sentence
        with an LLM; at once with the extractive answerer). The last item is final.
        ``record=False`` keeps the app's own probes out of the question log."""
        began = time.perf_counter()
        answer_id = new_answer_id()
        question = clean_question(question, self.settings.max_question_chars)
        self._follow_ingests()
        # One budget for the language model per question: rewriting a follow-up and
        # writing the answer share it, so a hung model costs the timeout once.
        deadline = time.monotonic() + self.settings.llm_timeout
        answer = None
        for answer in self._first_answers(question, history, deadline):
            seconds = round(time.perf_counter() - began, 4)
            answer = answer.model_copy(update={"seconds": seconds, "answer_id": answer_id})
            yield answer
        if answer is not None and record:
            self.log.record(answer)  # the final answer, once the consumer has read it all

    def _answers(
        self, question: str, history: Sequence[Message] | None, deadline: float
    ) -> Iterator[Answer]:
        query = self._resolve(question, history, deadline)
        if not self.manifest.get("chunks"):
            where = self.settings.corpus_dir
            why = (
                f"the articles in {where} had no text left once boilerplate was dropped"
                if self.manifest.get("files")
                else f"{where} has no readable articles"
            )
            raise CorpusError(
                f"the index holds no passages: {why}; put .md, .txt or .html files with "
                "article text there and run `roleguide ingest`"
            )
        pair = self._comparison_pair(query)
        table = self._comparison_answer(question, query, *pair) if pair is not None else None
        if table is not None and _compared_rows(table) >= MIN_COMPARED_ROWS:
            answers: Iterator[Answer] = iter([table])
        else:  # no side-by-side facets for these roles: quote what the articles say
            vector = self.query_vector(query)
            hits = self.retriever.search(query, vector)
            if self.llm_answerer is not None:
                answers = self.llm_answerer.stream(question, query, vector, hits, deadline)
            else:
                answers = iter([self.answerer.compose(question, query, vector, hits)])
        return answers

    def ask(
        self, question: str, history: Sequence[Message] | None = None, *, record: bool = True
    ) -> Answer:
        """Answer ``question``; ``history`` is the conversation so far, for follow-ups.

        Raises ``InvalidQuestionError`` (a ``ValueError``) for an empty or over-long
        question, with a message that says what to change. Every answer goes to the
        question log (``ROLEGUIDE_LOG``) unless ``record=False``.
        """
        final = deque(self.ask_stream(question, history, record=record), maxlen=1)
        return final[0]  # the final answer

    def _comparison_pair(self, query: str) -> tuple[str, str] | None:
        """The two roles of a plain "X vs Y" question (nothing asked beyond comparing them)."""
        named = self.catalog.roles_in(query)
        if len(named) != 2 or not (is_comparison(query) or re.search(r"\bor\b", query)):
            return None
        if self.answerer.topic_tokens(query) - _COMPARISON_WORDS:
            return None  # "How do their budgets differ?": answered from the budget passages
        try:
            self.careers.resolve(named[0]), self.careers.resolve(named[1])
        except InvalidQuestionError:
            return None
        return named[0], named[1]

    def _comparison_answer(self, question: str, query: str, a: str, b: str) -> Answer:
        table = self.careers.compare(a, b)
        text = (
            f"{a} vs {b}, facet by facet — each cell quotes the articles:\n\n" + table.to_markdown()
        )
        return Answer(
            question=question,
            query=query,
            text=text,
            citations=table.citations,
            comparison=table,
        )

    # -- career tools --------------------------------------------------------------------
    def roles(self) -> list[RoleInfo]:
        """The roles the corpus covers, with aliases and how many passages speak of each."""
        self._ready()
        return self.careers.roles()

    def compare(self, first: str, second: str) -> Comparison:
        """Two roles side by side, one row per facet, each cell a cited quote.

        >>> guide.compare("ops manager", "Procurement Manager").rows[0].facet  # doctest: +SKIP
        'Scope of Responsibilities'
        """
        self._ready()
        return self.careers.compare(first, second)

    def profile(self, role: str) -> RoleProfile:
        """Everything the corpus says about one role, grouped by facet, cited."""
        self._ready()
        return self.careers.profile(role)

    def match(self, interests: Sequence[str]) -> MatchResult:
        """Roles ranked by how well the articles' statements match the given interests."""
        self._ready()
        return self.careers.match(interests)

    # -- about the corpus --------------------------------------------------------------
    def sources(self) -> list[ArticleInfo]:
        """The articles in the index: file, title, origin, date added, roles, chunk count."""
        from roleguide.ingest.library import list_articles

        return list_articles(self)

    # -- keeping the corpus current --------------------------------------------------------
    def add(self, *items: str | Path, name: str | None = None) -> AddResult:
        """Add articles (files: .md .txt .html .pdf, or http(s) URLs) and ingest them.

        Raises ``ArticleError`` (one line per refused item) and changes nothing when any
        item cannot be added: a name or text already in the corpus, an empty extraction, an
        unsupported type, a file or download over the size cap.
        """
        from roleguide.ingest.library import add_articles

        return add_articles(self, items, name=name)

    def remove(self, name: str) -> RemoveResult:
        """Remove one article (file name, stem or title) and its chunks from the index."""
        from roleguide.ingest.library import remove_article

        return remove_article(self, name)

    def feedback(self, answer: Answer | str, helpful: bool, comment: str = "") -> int:
        """Record 👍 (``helpful=True``) or 👎 for an answer (or its ``answer_id``)."""
        answer_id = answer.answer_id if isinstance(answer, Answer) else answer
        question = answer.question if isinstance(answer, Answer) else ""
        return self.log.feedback(answer_id, helpful, comment, question)

    def gaps(self, since: str | None = None) -> GapReport:
        """Abstained or thumbed-down questions, grouped by meaning, most frequent first."""
        from roleguide.feedback.gaps import domain_vector, gap_report

        self._ready()
        domain = domain_vector(self.index)
        return gap_report(self.log, self.index.embeddings, domain=domain, since=since)
