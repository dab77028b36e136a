"""Attribution: which role each sentence, bullet or table row of a passage speaks about.

A unit is about the role it names; "Both roles…" is about the roles its article compares;
"They…/This role…" continues the unit before it. A unit that does none of these is about
the role its nearest heading names ("A Supply Chain Manager:", "Logistics Manager: The
Operational Mastermind"), else the one role of a one-role article (a job description),
else about no role: never guessed. A heading that names two roles (a comparison) stops
the search, so its units stay unattributed unless they name a role themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

from roleguide.ask.query import is_comparison
from roleguide.ask.roles import RoleCatalog
from roleguide.ingest.chunks import TABLE_HEADER_SEP

__all__ = ["heading_roles", "unit_subjects"]


def heading_roles(catalog: RoleCatalog, chunk) -> tuple[str, ...]:
    """The role(s) the headings above ``chunk`` attribute it to (innermost heading first).

    A table whose column headers name roles is about those roles.
    """
    context = getattr(chunk, "context", "")
    if chunk.kind == "table":
        columns = catalog.roles_in(context.replace(TABLE_HEADER_SEP, " ; "))
        if len(columns) > 1:
            return tuple(columns)
        headings = [chunk.section]
    else:
        headings = [*(context.split(" › ") if context else []), chunk.section]
    for heading in reversed(headings):
        named = catalog.roles_in(heading)
        if len(named) == 1:
            return (named[0],)
        if named:  # "Buyers and purchasing agents…" covers both; "X vs. Y" neither
            return () if is_comparison(heading) else tuple(named)
    return ()


def unit_subjects(
    catalog: RoleCatalog, chunk, texts: Sequence[str], article_roles: Sequence[str]
) -> list[tuple[str, ...]]:
    """The role(s) each of ``texts`` (the units of ``chunk``, in order) is about."""
    default = heading_roles(catalog, chunk)
    if not default and len(article_roles) == 1:
        default = (article_roles[0],)
    subjects = catalog.subjects(list(texts), tuple(article_roles))
    if chunk.kind in ("fragment", "table"):
        # a row or key-value line is about the role in its first cell ("Operations
        # Managers | Bachelor's Degree | …"), not one its value names in passing
        subjects = [
            s if s and _leads_with(catalog, t) else () for s, t in zip(subjects, texts, strict=True)
        ]
    return [s or default for s in subjects]


def _leads_with(catalog: RoleCatalog, text: str) -> bool:
    found = catalog.mentions(text)
    return bool(found) and found[0].start <= _LEAD_CHARS


_LEAD_CHARS = 4  # a row's role is its first words ("The ", "| ")
