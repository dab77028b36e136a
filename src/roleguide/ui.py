"""The Gradio web app: a chat whose every answer shows its sources, in context.

It calls the same ``RoleGuide`` façade as the CLI and the API — no second pipeline —
and exposes the structured answer as the named API endpoint ``/ask``::

    from gradio_client import Client
    result = Client("http://127.0.0.1:7860/").predict(
        "Who handles customs compliance?", [], api_name="/ask"
    )
    result["citations"][0]["section"]      # 'Regulatory Compliance'
"""

from __future__ import annotations

import html
import itertools
import logging
from pathlib import Path

import gradio as gr

from .api import RoleGuide
from .errors import RoleGuideError
from .models import Answer
from .ui_html import (
    APP_CSS,
    APP_JS,
    answer_markdown,
    comparison_html,
    corpus_table,
    match_html,
    md_escape,
    profile_html,
    sentences_for_streaming,
    sources_html,
)

__all__ = ["EXAMPLE_QUESTIONS", "build_app", "serve"]

log = logging.getLogger("roleguide.ui")

EXAMPLE_QUESTIONS = (
    "Who handles customs compliance?",
    "Does a logistics manager report to the operations manager?",
    "What degree do logistics managers usually have?",
    "Whose job is it to get good deals from suppliers?",
    "Where can a procurement manager's career lead?",
    "What is the key difference between logistics and operations management?",
)
QUEUE_SIZE = 64
CONCURRENCY = 4


def _answerable_examples(guide: RoleGuide) -> list[str]:
    """The example questions this corpus actually answers (users may bring other articles)."""
    found = []
    for question in EXAMPLE_QUESTIONS:
        try:
            if not guide.ask(question).abstained:
                found.append(question)
        except RoleGuideError:
            continue
    return found


def build_app(guide: RoleGuide) -> gr.Blocks:
    """The Blocks app for ``guide``; launch it with ``serve`` (or ``.launch()`` yourself)."""
    corpus_dir = Path(guide.settings.corpus_dir)
    examples = _answerable_examples(guide)

    def respond(message: str, chat: list, history: list, turns: list):
        partials = guide.ask_stream(message or "", history)
        try:
            first = next(partials)
        except RoleGuideError as e:
            gr.Warning(str(e))
            yield message, chat, history, turns, gr.skip()
            return
        except Exception as e:
            log.exception("ask failed")
            gr.Warning(f"roleguide failed to answer ({type(e).__name__}: {e})")
            yield message, chat, history, turns, gr.skip()
            return
        turn = len(turns)
        chat = [*chat, {"role": "user", "content": md_escape(first.question)}, {}]
        answer = first
        for answer in itertools.chain([first], partials):
            shown = [*turns, (answer.question, answer)]
            panel = sources_html(shown, corpus_dir)
            markdown = answer_markdown(answer, turn)
            steps = (
                sentences_for_streaming(markdown) if answer.answerer == "extractive" else [markdown]
            )
            for prefix in steps:
                chat[-1] = {"role": "assistant", "content": prefix}
                yield "", chat, history, shown, panel
        history = [
            *history,
            {"role": "user", "content": answer.question},
            {"role": "assistant", "content": answer.text},
        ]
        yield "", chat, history, [*turns, (answer.question, answer)], gr.skip()

    def pick_example(event: gr.SelectData) -> str:
        value = event.value
        return value.get("text", "") if isinstance(value, dict) else str(value)

    def clear():
        return "", [], [], [], sources_html([], corpus_dir)

    def ask_api(question: str, history: list[dict] | None = None) -> dict:
        """Ask roleguide; returns the answer text, its citations and the abstained flag."""
        try:
            answer: Answer = guide.ask(question, history or [])
        except RoleGuideError as e:
            raise gr.Error(str(e)) from None
        except Exception as e:  # never an error without a message over HTTP
            log.exception("ask failed")
            raise gr.Error(f"roleguide failed to answer ({type(e).__name__}: {e})") from None
        return answer.model_dump(mode="json")

    role_names = [r.name for r in guide.roles()]

    def compare_roles(first: str, second: str) -> str:
        try:
            return comparison_html(guide.compare(first, second), corpus_dir)
        except RoleGuideError as e:
            return f"<p class='rg-none'>{html.escape(str(e))}</p>"

    def show_profile(role: str) -> str:
        try:
            return profile_html(guide.profile(role), corpus_dir)
        except RoleGuideError as e:
            return f"<p class='rg-none'>{html.escape(str(e))}</p>"

    def match_roles(text: str) -> str:
        try:
            return match_html(guide.match((text or "").splitlines()), corpus_dir)
        except RoleGuideError as e:
            return f"<p class='rg-none'>{html.escape(str(e))}</p>"

    with gr.Blocks(
        title="roleguide — operations, logistics & procurement careers",
        delete_cache=(600, 3600),  # uploaded files (if a tab takes any) go after an hour
    ) as app:
        gr.Markdown(
            "## roleguide\n"
            "Questions about careers in **operations, logistics and procurement**, answered "
            "from the articles in the corpus. Every sentence is a quote; click **[n]** or a "
            "source card to read it in its article."
        )
        history = gr.State([])
        turns = gr.State([])
        with gr.Tab("Chat", elem_id="rg-tab-chat"), gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    show_label=False,
                    height=520,
                    elem_id="rg-chat",
                    examples=[{"text": q} for q in examples] or None,
                    placeholder="Ask about a role — or pick an example.",
                    buttons=["copy"],
                    feedback_options=None,
                    allow_tags=False,
                    sanitize_html=True,
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="e.g. Who negotiates contracts with suppliers?",
                        show_label=False,
                        max_length=guide.settings.max_question_chars,
                        scale=5,
                        elem_id="rg-question",
                        autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                clear_button = gr.Button("Clear conversation", size="sm", elem_id="rg-clear")
            with gr.Column(scale=2, min_width=320):
                gr.Markdown("### Sources")
                panel = gr.HTML(sources_html([], corpus_dir), elem_id="rg-sources", js_on_load=None)
                with gr.Accordion("Articles in the corpus", open=False, elem_id="rg-corpus"):
                    gr.HTML(corpus_table(guide.sources()), js_on_load=None)
        with gr.Tab("Compare roles", elem_id="rg-tab-compare"):
            with gr.Row():
                first = gr.Dropdown(
                    role_names,
                    value=role_names[0] if role_names else None,
                    label="Role",
                    elem_id="rg-role-a",
                )
                second = gr.Dropdown(
                    role_names,
                    value=role_names[1] if len(role_names) > 1 else None,
                    label="Compared with",
                    elem_id="rg-role-b",
                )
            compare_button = gr.Button("Compare", variant="primary", elem_id="rg-compare")
            table = gr.HTML(elem_id="rg-compare-table", js_on_load=None)
        with gr.Tab("Role profile", elem_id="rg-tab-profile"):
            chosen = gr.Dropdown(
                role_names,
                value=role_names[0] if role_names else None,
                label="Role",
                elem_id="rg-profile-role",
            )
            profile_box = gr.HTML(elem_id="rg-profile", js_on_load=None)
        with gr.Tab("Which role fits me?", elem_id="rg-tab-match"):
            gr.Markdown(
                "Write the work you like, one task or interest per line. roleguide ranks the "
                "roles by how closely the articles' statements about them match — a pointer "
                "into the articles, not career advice."
            )
            interests = gr.Textbox(
                lines=3,
                label="Tasks or interests",
                elem_id="rg-interests",
                placeholder="negotiating with suppliers\ncontract law",
            )
            match_button = gr.Button("Find matching roles", variant="primary", elem_id="rg-match")
            matches = gr.HTML(elem_id="rg-matches", js_on_load=None)
        outputs = [box, chatbot, history, turns, panel]
        inputs = [box, chatbot, history, turns]
        for trigger in (box.submit, send.click):
            trigger(respond, inputs, outputs, api_visibility="private", show_progress="minimal")
        chatbot.example_select(pick_example, None, box, api_visibility="private").then(
            respond, inputs, outputs, api_visibility="private"
        )
        clear_button.click(clear, None, outputs, api_visibility="private")
        for trigger in (compare_button.click, first.change, second.change):
            trigger(compare_roles, [first, second], table, api_visibility="private")
        chosen.change(show_profile, chosen, profile_box, api_visibility="private")
        match_button.click(match_roles, interests, matches, api_visibility="private")
        app.load(compare_roles, [first, second], table, api_visibility="private")
        app.load(show_profile, chosen, profile_box, api_visibility="private")
        gr.api(ask_api, api_name="ask", concurrency_limit=CONCURRENCY)
    app.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    return app


def serve(
    guide: RoleGuide,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    share: bool = False,
    block: bool = True,
):
    """Start the web app; with ``block=False`` return ``(app, url)`` and keep serving."""
    from starlette.middleware import Middleware

    from .web_limits import RequestLimits, is_loopback, reap_slow_clients

    app = build_app(guide)
    limits = Middleware(
        RequestLimits,
        max_bytes=guide.settings.max_request_bytes,
        uploads=_takes_uploads(app),
        loopback_only=is_loopback(host) and not share,
    )
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        share=share,
        show_error=True,  # e.g. "/ask" called with too few values: say so, not null
        quiet=not block,
        css=APP_CSS,
        js=APP_JS,
        theme=gr.themes.Soft(),
        footer_links=["api"],
        max_file_size="1mb",
        app_kwargs={"middleware": [limits]},
        prevent_thread_lock=True,
    )
    reap_slow_clients(app.server)
    if block:
        app.block_thread()
    return app, url


def _takes_uploads(app: gr.Blocks) -> bool:
    """True when some component of ``app`` accepts files (only then is /upload open)."""
    kinds = (gr.File, gr.UploadButton, gr.Image, gr.Audio, gr.Video, gr.MultimodalTextbox)
    return any(isinstance(block, kinds) for block in app.blocks.values())
