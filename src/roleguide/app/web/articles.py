"""The web app's Articles tab: list, upload, add by URL, remove, and the gaps panel.

Changing the corpus from the web is open only on a loopback bind without ``--share``;
anywhere else it needs the admin token (``--admin-token`` / ``ROLEGUIDE_ADMIN_TOKEN``),
and without one the tab is not built at all, so its handlers do not exist on the server.
When a token is set, every handler checks it on the server before acting.
"""

from __future__ import annotations

import hmac
import ipaddress
import shutil
import tempfile
from pathlib import Path
from typing import Literal

import gradio as gr

from roleguide.api import RoleGuide
from roleguide.app.web.templating import render_template
from roleguide.errors import RoleGuideError
from roleguide.ingest.articles import MAX_ARTICLE_BYTES, SUPPORTED_SUFFIXES
from roleguide.ingest.library import safe_name
from roleguide.models import ArticleInfo, GapReport

__all__ = ["MAX_UPLOAD_FILES", "AdminMode", "admin_mode", "articles_tab"]

AdminMode = Literal["open", "token", "hidden"]
MAX_UPLOAD_FILES = 10


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def admin_mode(host: str, share: bool, token: str) -> AdminMode:
    """``open`` (loopback, no share, no token), ``token`` (a token is set: always asked),
    or ``hidden`` (reachable from other machines and no token: no corpus changes)."""
    if token:
        return "token"
    return "open" if _loopback(host) and not share else "hidden"


def articles_html(articles: list[ArticleInfo]) -> str:
    """The article list; every field escaped, sources shown as text (never fetched)."""
    return render_template("articles.html", articles=articles)


def gaps_html(report: GapReport) -> str:
    """The gaps report as a table, most asked first (a line when nothing is logged)."""
    return render_template("gaps.html", report=report)


def _uploads(files: list | None) -> tuple[tempfile.TemporaryDirectory, list[Path]]:
    """Copies of the uploaded files under sanitised names in a private folder."""
    files = [f for f in files or [] if f]
    if not files:
        raise RoleGuideError("choose one or more files to upload first")
    if len(files) > MAX_UPLOAD_FILES:
        raise RoleGuideError(f"upload at most {MAX_UPLOAD_FILES} files at a time")
    folder = tempfile.TemporaryDirectory(prefix="roleguide-upload-")
    paths = []
    for f in files:
        original = Path(getattr(f, "name", None) or str(f))
        suffix = original.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            folder.cleanup()
            raise RoleGuideError(
                f"{original.name}: unsupported file type; upload {', '.join(SUPPORTED_SUFFIXES)}"
            )
        if original.stat().st_size > MAX_ARTICLE_BYTES:
            folder.cleanup()
            raise RoleGuideError(f"{original.name}: larger than {MAX_ARTICLE_BYTES // 2**20} MB")
        target = Path(folder.name) / (Path(safe_name(original.stem)).stem + suffix)
        shutil.copyfile(original, target)
        original.unlink(missing_ok=True)  # not left in Gradio's cache to be served back
        paths.append(target)
    return folder, paths


def articles_tab(guide: RoleGuide, mode: AdminMode, token: str = "") -> None:
    """Build the tab inside the current ``gr.Blocks``; nothing at all in ``hidden`` mode."""
    if mode == "hidden":
        return

    def allowed(given: str | None) -> None:
        if mode == "token" and not hmac.compare_digest((given or "").encode(), token.encode()):
            raise gr.Error(
                "The admin token is missing or wrong: changing the corpus and reading the "
                "gaps report need it."
            )

    def names() -> list[str]:
        return [a.source for a in guide.sources()]

    def refreshed(message: str):
        articles = guide.sources()
        choices = [a.source for a in articles]
        return message, articles_html(articles), gr.update(choices=choices, value=None)

    def uploaded(message: str):
        return (*refreshed(message), None)  # and clear the upload box

    def outcome(result) -> str:
        lines = [
            f"Added **{a.source}** ({a.chunks} chunks; roles found: {', '.join(a.roles) or 'none'})"
            for a in result.articles
        ]
        return "\n\n".join(lines) + f"\n\n{result.seconds:.1f} s"

    def add_files(files, given: str | None):
        try:
            allowed(given)
        except gr.Error:  # refused: nothing of the upload stays in Gradio's cache
            for f in files or []:
                Path(getattr(f, "name", None) or str(f)).unlink(missing_ok=True)
            raise
        try:
            folder, paths = _uploads(files)
            with folder:
                return uploaded(outcome(guide.add(*paths)))
        except RoleGuideError as e:
            raise gr.Error(str(e)) from None

    def add_url(url: str, given: str | None):
        allowed(given)
        try:
            return refreshed(outcome(guide.add((url or "").strip())))
        except RoleGuideError as e:
            raise gr.Error(str(e)) from None

    def remove(name: str | None, given: str | None):
        allowed(given)
        if not name:
            raise gr.Error("Choose the article to remove first.")
        try:
            result = guide.remove(name)
        except RoleGuideError as e:
            raise gr.Error(str(e)) from None
        return refreshed(f"Removed **{result.article.source}** ({result.chunks_removed} chunks)")

    def show_gaps(given: str | None) -> str:
        allowed(given)
        try:
            return gaps_html(guide.gaps())
        except RoleGuideError as e:
            raise gr.Error(str(e)) from None

    with gr.Tab("Articles", elem_id="rg-tab-articles"):
        given = gr.Textbox(
            label="Admin token",
            type="password",
            visible=mode == "token",
            elem_id="rg-admin-token",
        )
        table = gr.HTML(articles_html(guide.sources()), elem_id="rg-articles", js_on_load=None)
        status = gr.Markdown(elem_id="rg-articles-status")
        with gr.Row(equal_height=False):
            with gr.Column():
                files = gr.File(
                    label=f"Upload articles (.md .txt .html .pdf, up to {MAX_UPLOAD_FILES})",
                    file_count="multiple",
                    file_types=list(SUPPORTED_SUFFIXES),
                    elem_id="rg-upload",
                )
                upload = gr.Button("Add uploaded files", elem_id="rg-upload-add")
            with gr.Column():
                url = gr.Textbox(label="Add a web page or PDF by URL", elem_id="rg-add-url")
                fetch = gr.Button("Add from URL", elem_id="rg-add-url-button")
                chosen = gr.Dropdown(names(), label="Remove an article", elem_id="rg-remove")
                drop = gr.Button("Remove", variant="stop", elem_id="rg-remove-button")
        with gr.Accordion("Questions the articles don't cover", open=False, elem_id="rg-gaps"):
            gaps_button = gr.Button("Show the gaps report", elem_id="rg-gaps-button")
            gaps_box = gr.HTML(elem_id="rg-gaps-report", js_on_load=None)
        outputs = [status, table, chosen]
        upload.click(add_files, [files, given], [*outputs, files], api_name="articles_upload",
                     api_visibility="private")  # fmt: skip
        fetch.click(add_url, [url, given], outputs, api_name="articles_add_url",
                    api_visibility="undocumented")  # fmt: skip
        drop.click(remove, [chosen, given], outputs, api_name="articles_remove",
                   api_visibility="undocumented")  # fmt: skip
        gaps_button.click(show_gaps, given, gaps_box, api_name="articles_gaps",
                          api_visibility="undocumented")  # fmt: skip
