"""The one way the web app writes HTML: Jinja2 templates in ``templates/``, autoescaped.

Every value put into a template is escaped where it is inserted, so article and user text
shows as text; ``StrictUndefined`` makes a misspelt name fail instead of rendering empty.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

__all__ = ["render_template"]

_ENV = Environment(
    loader=PackageLoader("roleguide.app.web"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_template(name: str, /, **context: object) -> str:
    """``templates/<name>`` filled in with ``context``."""
    return _ENV.get_template(name).render(**context)
