"""👍 / 👎 on every answer of the web chat, with an optional short comment.

Gradio's Chatbot draws the thumbs; a click stores the rating at once through
``RoleGuide.feedback``, then offers a comment box that amends the same row.
"""

from __future__ import annotations

import gradio as gr

from roleguide.api import RoleGuide
from roleguide.feedback.log import MAX_COMMENT_CHARS

__all__ = ["FEEDBACK_OPTIONS", "attach_feedback"]

FEEDBACK_OPTIONS = ("Like", "Dislike")


def attach_feedback(guide: RoleGuide, chatbot: gr.Chatbot, turns: gr.State) -> None:
    """Wire the chatbot's thumbs to the question log; builds the comment row in place."""
    feedback_id = gr.State(0)
    with gr.Row(visible=False, elem_id="rg-feedback") as row:
        comment = gr.Textbox(
            placeholder="Optional: what was missing or wrong?",
            show_label=False,
            max_length=MAX_COMMENT_CHARS,
            scale=5,
            elem_id="rg-feedback-comment",
        )
        save = gr.Button("Send", scale=1, min_width=80, elem_id="rg-feedback-send")

    def rated(shown: list, event: gr.LikeData):
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        turn = int(index) // 2  # the chat alternates question, answer
        if not isinstance(event.liked, bool) or not 0 <= turn < len(shown):
            return 0, gr.update(visible=False), ""
        _, answer = shown[turn]
        row_id = guide.feedback(answer, helpful=event.liked)
        gr.Info("Thanks — your rating is saved.")
        return row_id, gr.update(visible=True), ""

    def commented(row_id: int, text: str):
        if row_id and (text or "").strip():
            guide.log.comment(row_id, text)
            gr.Info("Comment saved.")
        return 0, gr.update(visible=False), ""

    chatbot.like(rated, turns, [feedback_id, row, comment], api_visibility="private")
    for trigger in (save.click, comment.submit):
        trigger(commented, [feedback_id, comment], [feedback_id, row, comment],
                api_visibility="private")  # fmt: skip
