"""The web app's own assets (stylesheet and script) and helpers that feed its layout.

``APP_CSS`` and ``APP_JS`` are read from ``app.css`` / ``app.js`` beside this module
(shipped as package data), so they can be edited and linted as CSS and JavaScript.
"""

from __future__ import annotations

from importlib.resources import files

from .followups import FollowupSuggester

__all__ = ["APP_CSS", "APP_JS", "FollowupSuggester"]

APP_CSS = files(__name__).joinpath("app.css").read_text(encoding="utf-8")
APP_JS = files(__name__).joinpath("app.js").read_text(encoding="utf-8")
