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

import itertools
import logging
from typing import cast

import gradio as gr
from gradio.events import api as gradio_api
from gradio.themes import Soft

from roleguide.api import RoleGuide
from roleguide.app.web.articles import AdminMode, admin_mode, articles_tab
from roleguide.app.web.careers import comparison_html, match_html, profile_html
from roleguide.app.web.feedback import FEEDBACK_OPTIONS, attach_feedback
from roleguide.app.web.followups import FollowupSuggester
from roleguide.app.web.render import (
    APP_CSS,
    APP_JS,
    answer_markdown,
    corpus_table,
    counter_html,
    length_problem,
    md_escape,
    sentences_for_streaming,
    sources_html,
)
from roleguide.app.web.templating import render_template
from roleguide.ask.conversation import Message
from roleguide.ask.query import MAX_QUESTION_TOKENS
from roleguide.ask.roles import describe_roles
from roleguide.errors import RoleGuideError
from roleguide.models import Answer

__all__ = ["EXAMPLE_QUESTIONS", "build_app", "serve"]

log = logging.getLogger("roleguide.app.web.ui")

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
            if not guide.ask(question, record=False).abstained:
                found.append(question)
        except RoleGuideError:
            continue
    return found


def build_app(guide: RoleGuide, admin: AdminMode = "hidden", admin_token: str = "") -> gr.Blocks:
    """The Blocks app for ``guide``; launch it with ``serve`` (or ``.launch()`` yourself).
    ``admin`` decides whether the Articles tab may change the corpus (see ``ui_articles``)."""
    examples = _answerable_examples(guide)

    suggester = FollowupSuggester(guide)

    def suggestions(questions: list[str]) -> list:
        padded = [*questions, *[None] * (suggester.limit - len(questions))]
        return [gr.update(value=q, visible=q is not None) for q in padded]

    def respond(message: str, chat: list, history: list, turns: list):
        hidden = suggestions([])
        limits = guide.settings.max_question_chars, MAX_QUESTION_TOKENS
        partials = guide.ask_stream(message or "", history)
        first, kind = None, "rg-notice rg-length"  # the counter steps aside for this one
        try:
            problem = length_problem(message or "", *limits)
            first = next(partials) if problem is None else None
        except RoleGuideError as e:
            problem, kind = str(e), "rg-notice"
        except Exception as e:  # a failure we did not foresee: said in the notice, not null
            log.exception("ask failed")
            problem, kind = f"roleguide failed to answer ({type(e).__name__}: {e})", "rg-notice"
        if first is None:
            problem = str(problem)[:1].upper() + str(problem)[1:]
            notice = render_template("notice.html", kind=kind, text=problem)
            yield message, chat, history, turns, gr.skip(), notice, *hidden
            return
        turn = len(turns)
        chat = [*chat, {"role": "user", "content": md_escape(first.question)}, {}]
        answer = first
        for answer in itertools.chain([first], partials):
            shown = [*turns, (answer.question, answer)]
            panel = sources_html(shown, guide)
            markdown = answer_markdown(answer, turn)
            steps = (
                sentences_for_streaming(markdown) if answer.answerer == "extractive" else [markdown]
            )
            for step, prefix in enumerate(steps):
                chat[-1] = {"role": "assistant", "content": prefix}
                # the panel (whole articles) travels once per answer, not once per sentence
                yield "", chat, history, shown, panel if step == 0 else gr.skip(), "", *hidden
        history = [
            *history,
            {"role": "user", "content": answer.question},
            {"role": "assistant", "content": answer.text},
        ]
        yield "", chat, history, [*turns, (answer.question, answer)], gr.skip(), "", *hidden

    def follow_ups(turns: list) -> list:
        """Suggestions for the latest answer: a separate event, so the next question is
        never held up (or ignored) while they are checked."""
        if not turns:
            return suggestions([])
        covered = [c.section for _, a in turns[:-1] for c in a.citations]
        return suggestions(suggester.suggest(turns[-1][1], covered))

    def pick_example(event: gr.SelectData) -> str:
        value = event.value
        return value.get("text", "") if isinstance(value, dict) else str(value)

    def clear():
        """One conversation state: chat, sources and follow-up memory go together."""
        return "", [], [], [], sources_html([], guide), "", *suggestions([])

    def count(text: str) -> tuple[str, str]:
        """The counter for ``text``; editing the question also retires the last notice."""
        return counter_html(text, guide.settings.max_question_chars, MAX_QUESTION_TOKENS), ""

    def ask_api(question: str, history: list[dict] | None = None) -> dict:
        """Ask roleguide; returns the answer text, its citations and the abstained flag."""
        try:
            # Gradio passes the JSON it was sent; ``ask`` checks each turn's shape.
            answer: Answer = guide.ask(question, cast("list[Message]", history or []))
        except RoleGuideError as e:
            raise gr.Error(str(e)) from None
        except Exception as e:  # never an error without a message over HTTP
            log.exception("ask failed")
            raise gr.Error(f"roleguide failed to answer ({type(e).__name__}: {e})") from None
        return answer.model_dump(mode="json")

    role_names = [r.name for r in guide.roles()]

    def compare_roles(first: str, second: str) -> str:
        try:
            return comparison_html(guide.compare(first, second), guide)
        except RoleGuideError as e:
            return render_template("career_error.html", text=str(e))

    def show_profile(role: str) -> str:
        try:
            return profile_html(guide.profile(role), guide)
        except RoleGuideError as e:
            return render_template("career_error.html", text=str(e))

    def match_roles(text: str) -> str:
        try:
            return match_html(guide.match((text or "").splitlines()), guide)
        except RoleGuideError as e:
            return render_template("career_error.html", text=str(e))

    with gr.Blocks(
        title="roleguide — cited answers about careers",
        delete_cache=(600, 3600),  # uploaded files (if a tab takes any) go after an hour
    ) as app:
        gr.Markdown(
            "# roleguide\n"
            "Questions about careers, answered from the articles in the corpus — they cover "
            f"**{describe_roles(role_names)}**. Every sentence is a quote; point at or tap "
            "**[n]** to read it, or open a source card to see it in its article.",
            elem_id="rg-intro",
        )
        history = gr.State([])
        turns = gr.State([])
        with gr.Tabs(overflow_behavior="wrap", elem_id="rg-tabs"):
            with gr.Tab("Chat", elem_id="rg-tab-chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=320, elem_id="rg-chat-col"):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        show_label=False,
                        height=520,
                        elem_id="rg-chat",
                        examples=[{"text": q} for q in examples] or None,
                        placeholder="Ask about a role — or pick an example.",
                        buttons=["copy"],
                        feedback_options=FEEDBACK_OPTIONS,
                        allow_tags=False,
                        sanitize_html=True,
                    )
                    with gr.Row(elem_id="rg-suggest"):
                        follow_buttons = [
                            gr.Button(visible=False, size="sm", elem_classes="rg-follow")
                            for _ in range(suggester.limit)
                        ]
                    with gr.Row():
                        box = gr.Textbox(
                            placeholder="e.g. Who negotiates contracts with suppliers?",
                            label="Your question",
                            show_label=False,
                            scale=5,
                            elem_id="rg-question",
                            autofocus=True,
                            max_lines=6,
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                    counter = gr.HTML(count("")[0], elem_id="rg-counter", js_on_load=None)
                    notice = gr.HTML("", elem_id="rg-notice", js_on_load=None)
                    clear_button = gr.Button("Clear conversation", size="sm", elem_id="rg-clear")
                    attach_feedback(guide, chatbot, turns)
                with gr.Column(scale=2, min_width=320, elem_id="rg-sources-col"):
                    gr.Markdown("## Sources")
                    panel = gr.HTML(sources_html([], guide), elem_id="rg-sources", js_on_load=None)
                    with gr.Accordion("Articles in the corpus", open=False, elem_id="rg-corpus"):
                        gr.HTML(corpus_table(guide.sources()), js_on_load=None)
            with gr.Tab("Compare roles", elem_id="rg-tab-compare"):
                with gr.Row():
                    first = gr.Dropdown(
                        role_names,
                        value=role_names[0] if role_names else None,
                        label="Role",
                        elem_id="rg-role-a",
                        min_width=240,
                    )
                    second = gr.Dropdown(
                        role_names,
                        value=role_names[1] if len(role_names) > 1 else None,
                        label="Compared with",
                        elem_id="rg-role-b",
                        min_width=240,
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
                    "Write the work you like, one task or interest per line. roleguide ranks "
                    "the roles by how closely the articles' statements about them match — a "
                    "pointer into the articles, not career advice."
                )
                interests = gr.Textbox(
                    lines=3,
                    label="Tasks or interests",
                    elem_id="rg-interests",
                    placeholder="negotiating with suppliers\ncontract law",
                )
                match_button = gr.Button(
                    "Find matching roles", variant="primary", elem_id="rg-match"
                )
                matches = gr.HTML(elem_id="rg-matches", js_on_load=None)
            articles_tab(guide, admin, admin_token)
        outputs = [box, chatbot, history, turns, panel, notice, *follow_buttons]
        inputs = [box, chatbot, history, turns]

        def suggest_after(answered) -> None:
            answered.success(
                follow_ups, turns, follow_buttons, api_visibility="private", show_progress="hidden"
            )

        for trigger in (box.submit, send.click):
            suggest_after(
                trigger(respond, inputs, outputs, api_visibility="private", show_progress="minimal")
            )
        picked = chatbot.example_select(pick_example, None, box, api_visibility="private")
        suggest_after(picked.then(respond, inputs, outputs, api_visibility="private"))
        for button in follow_buttons:
            chosen_q = button.click(lambda q: q, button, box, api_visibility="private", queue=False)
            suggest_after(chosen_q.then(respond, inputs, outputs, api_visibility="private"))
        for trigger in (clear_button.click, chatbot.clear):
            trigger(clear, None, outputs, api_visibility="private", queue=False)
        box.change(
            count,
            box,
            [counter, notice],
            api_visibility="private",
            queue=False,
            show_progress="hidden",
            trigger_mode="always_last",
        )
        for trigger in (compare_button.click, first.change, second.change):
            trigger(compare_roles, [first, second], table, api_visibility="private")
        chosen.change(show_profile, chosen, profile_box, api_visibility="private")
        match_button.click(match_roles, interests, matches, api_visibility="private")
        app.load(compare_roles, [first, second], table, api_visibility="private")
        app.load(show_profile, chosen, profile_box, api_visibility="private")
        gradio_api(ask_api, api_name="ask", concurrency_limit=CONCURRENCY)
    app.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    return app


def serve(
    guide: RoleGuide,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    share: bool = False,
    block: bool = True,
    admin_token: str | None = None,
):
    """Start the web app; with ``block=False`` return ``(app, url)`` and keep serving.
    The corpus can be changed from the Articles tab on 127.0.0.1 without ``share``, or
    anywhere with ``admin_token`` (default ``ROLEGUIDE_ADMIN_TOKEN``)."""
    from starlette.middleware import Middleware

    from roleguide.app.web.limits import RequestLimits, is_loopback, reap_slow_clients

    token = guide.settings.admin_token if admin_token is None else admin_token
    app = build_app(guide, admin_mode(host, share, token), token)
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
        theme=Soft(),
        footer_links=["api"],
        max_file_size=guide.settings.max_request_bytes,  # uploads: the Articles tab only
        app_kwargs={"middleware": [limits]},
        prevent_thread_lock=True,
    )
    from roleguide.app.web.http_api import mount

    mount(app.app, guide, concurrency=CONCURRENCY, queue=QUEUE_SIZE)  # /api/*, /v1/* routes
    reap_slow_clients(app.server)
    if block:
        app.block_thread()
    return app, url


def _takes_uploads(app: gr.Blocks) -> bool:
    """True when some component of ``app`` accepts files (only then is /upload open)."""
    kinds = (gr.File, gr.UploadButton, gr.Image, gr.Audio, gr.Video, gr.MultimodalTextbox)
    return any(isinstance(block, kinds) for block in app.blocks.values())
