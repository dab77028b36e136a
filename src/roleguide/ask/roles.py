"""Role names: the roles the corpus covers, their aliases, and finding them in text.

Roles come from data only: the roles each article covers (found in its text, or its
``roles:`` front matter) and the optional ``aliases.yaml`` beside them. An alias that the
corpus itself uses as a role of its own is not merged (an article that compares
purchasing and procurement managers keeps them apart). Mentions match in any letter
case, singular or plural.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from roleguide.errors import CorpusError
from roleguide.ingest.titles import job_titles, title_key

__all__ = ["ALIAS_FILE", "RoleCatalog", "RoleMention", "describe_roles", "load_aliases"]

ALIAS_FILE = "aliases.yaml"

_BOTH = re.compile(r"\bboth\s+(roles|positions|jobs|of them|managers)\b|^both\b", re.I)
_REFERS_BACK = re.compile(r"(they|their|them|this role|this position|he|she|his|her)\b", re.I)
_COORDINATED = re.compile(
    r"\b([A-Za-z]+)\s+(and|or|vs\.?|versus|&)\s+([A-Za-z]+)\s+([A-Za-z]+)\b", re.I
)
_CAREER_TARGET = re.compile(
    r"\b(become|becoming|becomes|into|promoted to|move up to|lead to|leads to)\s+(an?\s+|the\s+)?"
    r"(\w+\s+){0,2}$",
    re.I,
)
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\s+$")
_POSSESSIVE = re.compile(r"['’]s?$")
_SURFACE_CACHE = 4096  # distinct spellings of role names remembered by ``_role_of``


@dataclass(frozen=True)
class RoleMention:
    role: str
    start: int
    end: int


def load_aliases(corpus_dir: Path) -> dict[str, list[str]]:
    """``aliases.yaml`` in the corpus folder as {role: [alias, ...]}; empty when absent."""
    path = Path(corpus_dir) / ALIAS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as e:
        raise CorpusError(f"{path} is not valid YAML ({e}); fix it or delete it") from e
    if not isinstance(data, dict):
        raise CorpusError(f"{path} must map each role to a list of aliases")
    return {str(k): [str(a) for a in (v or [])] for k, v in data.items()}


def _shortens(short: str, word: str) -> bool:
    """``short`` is a clipping of ``word``: "ops"/"operations", "mgmt"/"management"."""
    if len(short) < 2 or short[0] != word[0] or len(short) >= len(word):
        return False
    rest = iter(word)
    return all(ch in rest for ch in short)


def _surface_pattern(name: str) -> str:
    words = [re.escape(w) for w in name.split()]
    last = words[-1]
    words[-1] = f"{last}(?:s|es)?(?:['’]s?)?"
    return r"\s+".join(words)


def _alternation(forms: list[str]) -> str:
    """The forms' surface patterns as one alternation, in the order given.

    Forms that start with the same ASCII letter or digit share it as one prefix
    (``b(?:uyer…|uying agent…)``): the regex engine then tries only the forms that can
    start at a position instead of every form (twice as fast with 60 roles). No character
    matches two different ASCII letters or digits, even ignoring case, so at any position
    only one group can match, its forms tried in the same order as without the grouping:
    the same matches. Any other first character keeps the plain alternation.
    """
    patterns = [_surface_pattern(f) for f in forms]
    firsts = [f.split()[0][0] for f in forms]
    pairs = list(zip(firsts, patterns, strict=True))
    if not all(c.isascii() and c.isalnum() and p[0] == c for c, p in pairs):
        return "|".join(patterns)
    groups: dict[str, list[str]] = {}
    for first, pattern in pairs:
        groups.setdefault(first, []).append(pattern[1:])
    return "|".join(f"{first}(?:{'|'.join(rests)})" for first, rests in groups.items())


class RoleCatalog:
    """The known roles and every way to name them.

    >>> cat = RoleCatalog(["Operations Manager"], {"Operations Manager": ["ops manager"]})
    >>> [m.role for m in cat.mentions("Ops managers and operations managers")]
    ['Operations Manager', 'Operations Manager']
    >>> cat.normalise("what do ops managers do?")
    'what do Operations Managers do?'
    """

    def __init__(
        self,
        roles: Iterable[str],
        aliases: dict[str, list[str]] | None = None,
        *,
        mentioned: Iterable[str] = (),
        abbreviations: dict[str, str] | None = None,
        found: Iterable[str] = (),
    ) -> None:
        roles = list(dict.fromkeys(roles))
        covered = {title_key(r) for r in roles}
        aliases = {
            role: [a for a in names if title_key(a) not in covered]
            for role, names in (aliases or {}).items()
        }
        self.roles: list[str] = list(dict.fromkeys([*roles, *aliases]))
        self.aliases: dict[str, list[str]] = {r: list(aliases.get(r, [])) for r in self.roles}
        keys = {title_key(r): r for r in self.roles}
        self.defined: dict[str, str] = {}
        """abbreviations of titles that are not roles here: {"COO": "Chief Operating Officer"}"""
        for short, long in (abbreviations or {}).items():
            if title_key(long) in keys:
                self.aliases[keys[title_key(long)]].append(short)
            else:
                self.defined[short] = long
        self.mentioned = frozenset(mentioned) | {title_key(v) for v in self.defined.values()}
        self.found = frozenset(title_key(r) for r in found)
        """titles an article is found to cover, though its front matter lists others"""
        forms: dict[str, str] = {}
        for role in self.roles:
            for form in [role, *self.aliases[role]]:
                forms.setdefault(form.casefold(), role)
        self._forms = forms
        # first word of each multi-word role name ("logistics" -> Logistics Manager)
        firsts: dict[str, set[str]] = {}
        for role in self.roles:
            words = role.split()
            if len(words) > 1:
                firsts.setdefault(words[0].casefold(), set()).add(role)
        self._specialties = {w: next(iter(rs)) for w, rs in firsts.items() if len(rs) == 1}
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = (
            re.compile(r"\b(" + _alternation(ordered) + r")\b", re.I) if ordered else None
        )
        self._surfaces: dict[str, str] = {}

    def _role_of(self, surface: str) -> str:
        role = self._surfaces.get(surface)
        if role is not None:
            return role
        key = " ".join(surface.split()).casefold()
        key = _POSSESSIVE.sub("", key)
        for candidate in (key, key[:-2], key[:-1]):
            if candidate in self._forms:
                if len(self._surfaces) >= _SURFACE_CACHE:
                    self._surfaces.clear()
                self._surfaces[surface] = role = self._forms[candidate]
                return role
        raise KeyError(surface)

    def mentions(self, text: str) -> list[RoleMention]:
        """Every mention of a known role in ``text``, in order.

        A compound such as "logistics operations managers" counts as the role its first
        word names (Logistics Manager), not the one its last words happen to spell.
        """
        if self._pattern is None:
            return []
        out = []
        for m in self._pattern.finditer(text):
            role, start = self._role_of(m.group(0)), m.start()
            before = _WORD_BEFORE.search(text[max(0, start - 40) : start])
            if before:
                other = self._specialties.get(before.group(1).casefold())
                if other and other != role:
                    role, start = other, start - len(before.group(0))
            out.append(RoleMention(role, start, m.end()))
        return out

    def roles_in(self, text: str) -> list[str]:
        """The distinct known roles ``text`` mentions, first mention first."""
        return list(dict.fromkeys(m.role for m in self.mentions(text)))

    def subjects(
        self, sentences: list[str], both: tuple[str, ...] | list[str] = ()
    ) -> list[tuple[str, ...]]:
        """The role(s) each sentence of a paragraph speaks about.

        A sentence is about the first role it names; "Both roles…" is about ``both``
        (the roles its article compares); a sentence starting with "They/Their/This
        role…" continues the previous sentence's subject; any other is about no role.

        >>> cat = RoleCatalog(["Operations Manager", "Logistics Manager"])
        >>> cat.subjects(["An Operations Manager plans.", "Their role is broad.",
        ...               "Logistics Managers move goods.", "Inventory matters."])
        [('Operations Manager',), ('Operations Manager',), ('Logistics Manager',), ()]
        """
        out: list[tuple[str, ...]] = []
        current: tuple[str, ...] = ()
        for sentence in sentences:
            mentions = self.mentions(sentence)
            if mentions:
                current = (mentions[0].role,)
            elif _BOTH.search(sentence):
                current = tuple(both)
            elif not _REFERS_BACK.match(sentence):
                current = ()
            out.append(current)
        return out

    def canonical(self, name: str) -> str | None:
        """The canonical role for a name or alias (any case, singular or plural), else None."""
        found = self.mentions(name.strip())
        return found[0].role if found else None

    def normalise(self, text: str) -> str:
        """Replace aliases with canonical role names, keeping plurals; spell out shared
        nouns ("operations and procurement managers" → "operations managers and
        procurement managers")."""
        if self._pattern is None:
            return text

        def spell_out(m: re.Match) -> str:
            noun = m.group(4)
            singular = re.sub(r"s$", "", noun, flags=re.I)
            if f"{m.group(1)} {singular}".casefold() not in self._forms:
                return m.group(0)
            plural = noun if noun.lower().endswith("s") else noun + "s"
            return f"{m.group(1)} {plural} {m.group(2)} {m.group(3)} {noun}"

        text = _COORDINATED.sub(spell_out, text)
        text = self._unclip(text)

        def swap(m: re.Match) -> str:
            surface = m.group(0)
            role = self._role_of(surface)
            if surface.casefold().startswith(role.casefold()):
                return surface
            plural = re.search(r"(s|es)(['’]s?)?$", surface.split()[-1], re.I)
            return role + ("s" if plural and not role.casefold().endswith("s") else "")

        return self._pattern.sub(swap, text)

    def clipped(self, key: str) -> str | None:
        """The one role a shortened title stands for ("ops manager" → Operations Manager):
        same head noun, each word a prefix or contraction of the role's word."""
        words = key.split()
        found = []
        for role in self.roles:
            full = title_key(role).split()
            if len(full) != len(words) or full[-1] != words[-1] or full == words:
                continue
            if all(_shortens(w, f) for w, f in zip(words[:-1], full[:-1], strict=True)):
                found.append(role)
        return found[0] if len(found) == 1 else None

    def _unclip(self, text: str) -> str:
        known = [(m.start, m.end) for m in self.mentions(text)]
        for m in reversed(job_titles(text)):
            if any(a < m.end and m.start < b for a, b in known):
                continue
            role = self.clipped(m.key)
            if role is not None:
                plural = text[m.start : m.end].casefold().endswith("s") and not m.key.endswith("s")
                text = text[: m.start] + role + ("s" if plural else "") + text[m.end :]
        return text

    def _other_titles(self, text: str) -> list[str]:
        """Job titles in ``text`` that are not known roles (nor a career destination)."""
        known = [(m.start, m.end) for m in self.mentions(text)]
        out = []
        for m in job_titles(text):
            if any(a < m.end and m.start < b for a, b in known):
                continue
            if _CAREER_TARGET.search(text[max(0, m.start - 40) : m.start]):
                continue  # "become a Chief Operating Officer": a destination, not the subject
            out.append(m.key)
        return list(dict.fromkeys(out))

    def unknown_roles(self, text: str) -> list[str]:
        """Job titles in ``text`` the corpus never mentions ("fleet manager", "nurse").

        "Which manager…" or "the supply chain manager" are not unknown titles; a title the
        articles mention without covering it is in ``passing_roles``.
        """
        return [k for k in self._other_titles(text) if not self._is_mentioned(k)]

    def passing_roles(self, text: str) -> list[str]:
        """Job titles in ``text`` the corpus mentions but no article covers."""
        return [
            k for k in self._other_titles(text) if self._is_mentioned(k) and k not in self.found
        ]

    def _is_mentioned(self, key: str) -> bool:
        if key in self.mentioned:
            return True
        long = self.defined.get(key.upper())
        return long is not None

    def expand_abbreviations(self, text: str) -> str:
        """Spell out abbreviations the articles define: "a COO" → "a Chief Operating
        Officer (COO)", so the search finds the passage that defines it."""
        for short, long in self.defined.items():
            text = re.sub(
                rf"(?<!\()\b{re.escape(short)}s?\b(?!\))", lambda m, lg=long: f"{lg} ({m[0]})", text
            )
        return text


def describe_roles(names: list[str], most: int = 6) -> str:
    """The roles a corpus covers, in words, for a heading or a greeting.

    >>> describe_roles(["Buyer", "Demand Planner", "Supply Planner"])
    'Buyer, Demand Planner and Supply Planner'
    >>> describe_roles(["A", "B", "C", "D"], most=2)
    'A, B and 2 more roles'
    >>> describe_roles([])
    'no roles yet'
    """
    if not names:
        return "no roles yet"
    shown, rest = names[:most], len(names) - most
    if rest > 0:
        return f"{', '.join(shown)} and {rest} more role{'s' if rest > 1 else ''}"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
