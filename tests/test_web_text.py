"""What the web app says, without a browser: copy text, the length counter, follow-ups."""

from __future__ import annotations

from pathlib import Path

from roleguide.app.web.followups import FollowupSuggester
from roleguide.app.web.render import answer_plaintext, counter_html, length_problem, rewritten
from roleguide.ask.query import MAX_QUESTION_TOKENS


def test_plaintext_has_no_markdown_and_numbers_every_source(guide, corpus_dir):
    answer = guide.ask("Who handles customs compliance?")
    text = answer_plaintext(answer, Path(corpus_dir))
    body, sources = text.split("\n\nSources:\n")
    assert body == answer.text and "\\" not in text and "](#" not in text
    for c in answer.citations:
        assert f"[{c.number}] {c.title} — {c.section}\n    “{c.quote}”" in sources
        assert f"corpus/{c.source}, characters {c.start}–{c.end}" in sources


def test_plaintext_of_a_rewritten_followup_and_an_abstention(guide, corpus_dir):
    history = [
        {"role": "user", "content": "Who handles customs compliance?"},
        {"role": "assistant", "content": guide.ask("Who handles customs compliance?").text},
    ]
    follow = guide.ask("And what degree do they usually have?", history)
    assert rewritten(follow)
    assert f"Searched for: {follow.query}" in answer_plaintext(follow, Path(corpus_dir))
    assert not rewritten(guide.ask("Who handles customs compliance?"))
    none = guide.ask("How do I bake sourdough bread?")
    assert "Sources:" not in answer_plaintext(none, Path(corpus_dir))


def test_the_counter_counts_word_pieces_and_says_it_in_words():
    limits = 2000, MAX_QUESTION_TOKENS
    assert length_problem("Who negotiates contracts with suppliers?", *limits) is None
    sentence = "Which manager negotiates supplier contracts? "
    short, longer = counter_html(sentence, *limits), counter_html(sentence * 30, *limits)
    room = [int(t.split("about ")[1].split(" ")[0]) for t in (short, longer)]
    assert room[0] > 150 > room[1] > 0
    # 1,800 characters: under the 2,000-character guard, over the model's word pieces
    problem = length_problem(sentence * 40, *limits)
    assert problem and "words over the limit of about" in problem
    assert "Too long to search" in counter_html("x " * 3000, *limits)


def test_suggested_followups_are_answerable_facets_of_the_role(guide):
    suggester = FollowupSuggester(guide)
    answer = guide.ask("Who handles customs compliance?")
    suggestions = suggester.suggest(answer)
    assert 2 <= len(suggestions) <= 3
    cited = {c.section for c in answer.citations}
    for question in suggestions:
        assert answer.lead_role in question
        found = guide.ask(question)
        assert not found.abstained and not {c.section for c in found.citations[:1]} & cited
    assert suggester.suggest(guide.ask("How do I bake sourdough bread?")) == []
