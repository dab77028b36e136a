"""The web app's own assets: its stylesheet and script, read from ``static/``.

``APP_CSS`` and ``APP_JS`` are read from ``static/app.css`` / ``static/app.js`` (shipped
as package data), so they can be edited and linted as CSS and JavaScript.
"""

from __future__ import annotations

from importlib.resources import files

__all__ = ["APP_CSS", "APP_JS"]

STATIC = files("roleguide.app.web").joinpath("static")

APP_CSS = STATIC.joinpath("app.css").read_text(encoding="utf-8")
APP_JS = STATIC.joinpath("app.js").read_text(encoding="utf-8")
