"""Job titles in text: "supply chain analyst", "Chief Operating Officer (COO)", "nurse".

A job title is a head noun that names a job ("manager", "planner", "buyer"…) with up to
three words in front that specialise it ("supply chain"), never articles, pronouns,
question words or verbs. Used to discover the roles an article covers and to tell a
job title in a question from an ordinary word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "HEADS",
    "OCCUPATIONS",
    "TitleMatch",
    "abbreviations",
    "canonical_title",
    "job_titles",
    "title_key",
]

# Head nouns that need a specialising word to be a title ("manager" alone is not one).
HEADS = frozenset(
    "manager officer director leader assistant specialist coordinator analyst engineer "
    "supervisor executive planner clerk administrator consultant agent technician controller "
    "auditor strategist scheduler dispatcher expeditor representative broker "
    "president superintendent".split()
)
# Nouns that are a job on their own ("nurse", "buyer", "CEO").
OCCUPATIONS = frozenset(
    "accountant lawyer nurse doctor physician teacher developer programmer designer chef "
    "baker driver pilot scientist architect buyer logistician purchaser economist "
    "pharmacist dentist electrician plumber carpenter mechanic cashier receptionist "
    "paralegal firefighter journalist ceo coo cfo cpo cto cio".split()
)
_PLURALS = {"ceos": "ceo", "coos": "coo", "cfos": "cfo", "cpos": "cpo", "ctos": "cto"}
# Words that never specialise a title: they open or link a phrase.
_STOP = frozenset(
    "a an the this that these those my our your their his her its any every each some "
    "one two three four five several many most more other others such both all no not "
    "good great best new senior junior successful typical average effective experienced "
    "skilled aspiring do does did is are was were be been being of for to as and or nor "
    "with by from into than about what who whom whose which how why when where whether "
    "become becomes becoming became as vs versus between among like including include "
    "includes via per at on in if while then also often usually typically may can "
    "will would should must could need needs work works working hire hiring hired "
    "role roles job jobs career careers position positions title titles i you we they "
    "he she it me us them key main primary core general overall comparing understanding "
    "choosing including being having becoming".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z&'’-]*")
_HEAD_WORDS = HEADS | OCCUPATIONS
_ABBREVIATION = re.compile(r"\b((?:[A-Z][\w&-]*\s+){1,5}?[A-Z][\w-]*)\s*\(([A-Z]{2,6})s?\)")


@dataclass(frozen=True)
class TitleMatch:
    """A job title found in text: its span and its key (lower case, singular)."""

    start: int
    end: int
    key: str
    head: str


def _singular(word: str) -> str:
    low = word.casefold().rstrip("'’")
    if low in _PLURALS:
        return _PLURALS[low]
    for suffix in ("s",):
        stem = low[: -len(suffix)]
        if low.endswith(suffix) and stem in _HEAD_WORDS:
            return stem
    return low


def title_key(name: str) -> str:
    """A title's comparison key: lower case, single spaces, last word singular.

    >>> title_key("Supply  Chain Managers")
    'supply chain manager'
    """
    words = name.split()
    if not words:
        return ""
    return " ".join([w.casefold() for w in words[:-1]] + [_singular(words[-1])])


def canonical_title(surface: str) -> str:
    """How a discovered title is shown: Title Case, singular ("supply chain analysts" →
    "Supply Chain Analyst"); abbreviations stay upper case."""
    words = title_key(surface).split()
    return " ".join(
        w.upper() if len(w) <= 3 and w in OCCUPATIONS else w.capitalize() for w in words
    )


def job_titles(text: str, *, bare: bool = True) -> list[TitleMatch]:
    """Every job title in ``text``, longest reading first.

    "supply chain manager" is one title, not "chain manager"; "which manager" is none.
    A bare head noun ("manager") is not a title; a bare occupation ("nurse") is, unless
    ``bare`` is false.
    """
    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    out: list[TitleMatch] = []
    for i, (_, end, word) in enumerate(words):
        head = _singular(word)
        if head not in _HEAD_WORDS:
            continue
        nxt = words[i + 1] if i + 1 < len(words) else None
        if nxt and _singular(nxt[2]) in _HEAD_WORDS and nxt[0] - end <= 1:
            continue  # "project manager assistant": the title ends later
        first = i
        while first > 0 and i - first < 3:
            _, prev_end, prev = words[first - 1]
            gap = text[prev_end : words[first][0]]
            if gap.strip() or prev.casefold() in _STOP or len(prev) < 2:
                break
            first -= 1
        if first == i and (head not in OCCUPATIONS or not bare):
            continue
        key = " ".join([w[2].casefold() for w in words[first:i]] + [head])
        out.append(TitleMatch(words[first][0], end, key, head))
    return out


def abbreviations(text: str) -> dict[str, str]:
    """Abbreviations the text defines for job titles: {"COO": "Chief Operating Officer"}.

    >>> abbreviations("roles such as Chief Operating Officer (COO), or a CPO")
    {'COO': 'Chief Operating Officer'}
    """
    out: dict[str, str] = {}
    for m in _ABBREVIATION.finditer(text):
        long, short = " ".join(m.group(1).split()), m.group(2)
        words = long.split()
        initials = "".join(w[0] for w in words[-len(short) :]).upper()
        if initials == short and _singular(words[-1]) in _HEAD_WORDS:
            out.setdefault(short, " ".join(words[-len(short) :]))
    return out
