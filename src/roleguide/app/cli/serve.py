"""``roleguide serve``: start the web app on a warmed-up guide.

Registered on the main app by ``register(app)``; its refusals are one line each, exit 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

from roleguide.app.cli.common import ChromaOpt, CorpusOpt, HomeOpt, LlmOpt, fail, open_guide
from roleguide.app.cli.output import err

__all__ = ["register", "serve"]


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (127.0.0.1: this machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 7860,
    share: Annotated[bool, typer.Option(help="Also make a public gradio.live link.")] = False,
    admin_token: Annotated[
        str | None,
        typer.Option(
            help="Lets the Articles tab change the corpus beyond 127.0.0.1 "
            "[env: ROLEGUIDE_ADMIN_TOKEN]"
        ),
    ] = None,
    corpus: CorpusOpt = None,
    home: HomeOpt = None,
    chroma_url: ChromaOpt = None,
    llm: LlmOpt = None,
) -> None:
    """Start the web app (chat with cited, inspectable answers)."""
    from roleguide.app.memory import cap_malloc_arenas

    cap_malloc_arenas()  # before the model's and the server's threads exist
    from roleguide.app.web.ui import serve as serve_app

    try:  # roleguide's own errors go on to the command group's boundary
        guide = open_guide(corpus, home, chroma_url, llm=llm)
        with err.status("Warming up…"):
            guide.ask("Who handles customs compliance?", record=False)
        app, _ = serve_app(guide, host, port, share=share, admin_token=admin_token, block=False)
    except OSError as e:
        raise fail(f"cannot start the web app on {host}:{port} ({e}); try --port") from None
    # Said once the server listens: a page opened at this line loads.
    err.print(f"roleguide is ready at [bold]http://{host}:{port}/[/] (Ctrl-C stops it)")
    app.block_thread()


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``roleguide`` app."""
    app.command()(serve)
