"""The one public façade: ``RoleGuide``. The CLI, the web app and the evals all call it.

>>> from roleguide import RoleGuide
>>> guide = RoleGuide()                                   # doctest: +SKIP
>>> answer = guide.ask("Who handles customs compliance?")  # doctest: +SKIP
>>> answer.citations[0].section                            # doctest: +SKIP
'Regulatory Compliance'
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from roleguide.ask.answer import ExtractiveAnswerer
from roleguide.ask.chat import chat_model
from roleguide.ask.comparison import table_answer
from roleguide.ask.conversation import Message
from roleguide.ask.query import clean_question
from roleguide.ask.retrieval import HybridSearch, RetrieverMode
from roleguide.ask.roles import RoleCatalog, load_aliases
from roleguide.ask.understand import understand
from roleguide.cache import LRUCache
from roleguide.careers.tools import CareerMap
from roleguide.config import Settings, resolve_settings
from roleguide.errors import IndexLockedError, IndexMismatchError, StorageFullError
from roleguide.feedback.log import QuestionLog, new_answer_id
from roleguide.ingest.corpus import corpus_files, no_passages_error
from roleguide.ingest.pipeline import IngestReport, Progress, corpus_signature, ingest
from roleguide.ingest.reading import ArticleText, read_article
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
from roleguide.store.manifest import Manifest
from roleguide.store.recovery import once_more

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from roleguide.ask.langchain_retriever import HybridRetriever

__all__ = ["RoleGuide"]

log = logging.getLogger("roleguide")
RELOAD_CHECK_SECONDS = 5.0


def _generation(manifest: Manifest | None) -> tuple:
    """What identifies one complete ingest: its BM25 index and its store folder."""
    return manifest.generation if manifest is not None else (None, None)


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
        self._chat_model = chat_model(llm, self.settings)
        self.llm_answerer = None
        if embeddings is None:  # questions via ONNX (no torch) once ingest has exported it
            from roleguide.store.embeddings import BundledModel

            embeddings = BundledModel(
                self.settings.embed_precision, self.settings.home, self.settings.embed_workers
            )
        self.index = VectorIndex(
            self.settings.home, embeddings, self.settings.collection, self.settings.chroma_url
        )
        self._mode: RetrieverMode = retriever
        self._query_vectors: LRUCache[str, list[float]] = LRUCache(512)
        self._lock = threading.RLock()
        self._checked = time.monotonic()
        self._stamp: tuple | None = None
        self.manifest: Manifest | None = None
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
        return manifest.signature != corpus_signature(corpus_files(self.settings.corpus_dir))

    def _outdated(self) -> bool:
        """An index of this model in an older roleguide format (rebuilt by ``ingest``)."""
        manifest = self.index.manifest()
        return manifest is not None and manifest.is_outdated(self.index.model_id)

    def refresh(self, *, auto_ingest: bool = True) -> None:
        """Open the index, ingesting first when it is missing or stale (and allowed to)."""
        if auto_ingest and (self.is_stale() or self._outdated()):
            try:
                self.ingest()
            except (IndexLockedError, StorageFullError) as e:
                if self.index.manifest() is None:
                    raise
                log.warning("the index could not be updated (%s); using the current one", e)
        elif auto_ingest and self.manifest is None:  # opening to answer: no ingest first
            preload = getattr(self.index.embeddings, "open_query_model_in_background", None)
            if preload is not None:
                preload()  # while Chroma and BM25 load
        try:
            stamp = self.index.manifest_stamp()  # before reading: a newer one is noticed
            self.manifest = manifest = self.index.open()
            self._stamp = stamp
        except IndexMismatchError:
            if not auto_ingest or self.index.manifest() is None:
                raise
            # e.g. a lost BM25 index under an intact store: ingest repairs what it can and
            # embeds only what is missing; what it cannot repair, it reports itself.
            self.ingest()
            return
        source_roles = {s: list(r) for s, r in manifest.roles.items()}
        roles = [r for rs in source_roles.values() for r in rs]
        self.catalog = RoleCatalog(
            roles,
            load_aliases(self.settings.corpus_dir),
            mentioned=manifest.mentioned,
            abbreviations=manifest.abbreviations,
            found=[r for rs in manifest.found_roles.values() for r in rs],
        )
        self._retrieval = HybridSearch(self.index, self.settings.top_k, self._mode)
        self._retriever: HybridRetriever | None = None
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
        if self.manifest is None:
            self.refresh(auto_ingest=False)

    # -- asking ------------------------------------------------------------------------
    def _follow_ingests(self) -> None:
        """Pick up an ingest finished by another process: before every question with the
        embedded store (one ``stat`` of the manifest), every few seconds with a server."""
        stamp = self._stamp
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
        answers = partial(self._answers, question, history, deadline)
        return once_more(answers, self._reopen, self.index, self.settings.chroma_url)

    def query_vector(self, query: str) -> list[float]:
        return self._query_vectors.cached(query, self.index.embeddings.embed_query)

    def with_retriever(self, mode: RetrieverMode) -> RoleGuide:
        """The same guide (same index, model and answerer) retrieving with ``mode`` only."""
        self._ready()
        other = copy.copy(self)
        other._mode = mode
        other._query_vectors = LRUCache(512)  # so each variant's latency includes embedding
        other._retrieval = dataclasses.replace(self._retrieval, mode=mode)
        other._retriever = None
        return other

    @property
    def retrieval(self) -> HybridSearch:
        """The search ``ask`` runs: ``retrieval.search(query)`` returns scored chunks."""
        self._ready()
        return self._retrieval

    @property
    def retriever(self) -> HybridRetriever:
        """A LangChain ``BaseRetriever`` over the same index with the same settings as
        ``retrieval``: ``invoke(question)`` returns ``Document``s. Made on first use, so
        that asking never imports LangChain's runnable stack."""
        if self._retriever is None:
            from roleguide.ask.langchain_retriever import HybridRetriever

            self._retriever = HybridRetriever.over(self.retrieval)
        return self._retriever

    def effective_query(self, question: str, history: Sequence[Message] | None = None) -> str:
        """The query ``ask`` would search: follow-ups resolved, role aliases normalised."""
        return self._resolve(clean_question(question, self.settings.max_question_chars), history)

    def _resolve(
        self, question: str, history: Sequence[Message] | None, deadline: float | None = None
    ) -> str:
        self._ready()
        model = self._chat_model if self.settings.llm_rewrite else None
        timeout = self.settings.llm_timeout
        return understand(question, history, self.catalog, model, deadline, timeout)

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
        if not (self.manifest and self.manifest.chunks):
            had_files = bool(self.manifest and self.manifest.files)
            raise no_passages_error(self.settings.corpus_dir, had_files)
        table = table_answer(question, query, self.catalog, self.answerer, self.careers)
        if table is not None:
            answers: Iterator[Answer] = iter([table])
        else:  # no side-by-side facets for these roles: quote what the articles say
            vector = self.query_vector(query)
            hits = self._retrieval.search(query, vector)
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

    def article_text(self, source: str) -> ArticleText:
        """One article's whole text as indexed, with the blocks left out, to show a citation
        in context. Raises ``ArticleError`` when the file is gone or unreadable."""
        return read_article(Path(self.settings.corpus_dir), source)
