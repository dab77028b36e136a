"""Real inputs for the add/remove tests: a local HTTP server, generated PDFs and pages."""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HTML_PAGE = """<!doctype html><html><head>
<title>Warehouse Supervisor vs Inventory Planner | Jobs Blog</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/careers">Careers</a></li>
<li><a href="/about">About us</a></li></ul></nav>
<div class="ad">Sponsored: buy forklift insurance today, 20% off for new customers!</div>
<article>
<h1>Warehouse Supervisor vs Inventory Planner</h1>
<p>Both roles keep goods moving, but their days look very different. This guide compares them
side by side for anyone choosing between the two.</p>
<h2>Daily Work</h2>
<p>A Warehouse Supervisor runs the shift on the warehouse floor, assigns pickers to zones and
checks that every inbound pallet is put away before the end of the shift.</p>
<p>An Inventory Planner works at a desk with forecasts, sets reorder points for each product and
decides how much safety stock the company keeps.</p>
<h2>Skills</h2>
<ul><li>Warehouse Supervisors need forklift certification and people leadership.</li>
<li>Inventory Planners need spreadsheet modelling and demand forecasting skills.</li></ul>
</article>
<section class="comments"><h3>Leave a reply</h3><form><textarea name="c"></textarea>
<button>Post comment</button></form></section>
<footer>Copyright 2026 Jobs Blog. Privacy policy. Subscribe to our newsletter.</footer>
</body></html>"""

MARKDOWN_ARTICLE = """# Fleet Manager vs Route Planner

Fleet and routing work are often confused; this article explains who does what.

## Vehicles

A Fleet Manager decides when delivery trucks are serviced, leased or replaced, and keeps
the maintenance records of every vehicle in the fleet.

## Routes

A Route Planner draws up the daily delivery routes so that drivers reach every customer
inside the agreed time windows with the fewest kilometres driven.
"""

PDF_PARAGRAPHS = [
    (
        "Responsibilities",
        "A Customs Broker prepares the import declarations for each shipment and pays the duties "
        "on behalf of the importer, so that goods clear the border without delay.",
    ),
    (
        "Working with others",
        "A Freight Forwarder books space with carriers across sea, air and road, and hands the "
        "paperwork for each consignment to the customs broker before it arrives.",
    ),
]


GOODS = "coffee,steel coils,medical devices,textiles,tyres,wine,solar panels,toys,timber,spices"


def handbook_pages(pages: int) -> list[list[tuple[str, str]]]:
    """Distinct headed paragraphs for each page of a long PDF (no block repeats)."""
    goods = GOODS.split(",")
    out = []
    for p in range(pages):
        item, other = goods[p % len(goods)], goods[(p * 3 + 1) % len(goods)]
        out.append(
            [
                (
                    f"Chapter {p + 1}: importing {item}",
                    f"When a shipment of {item} arrives, the Customs Broker checks its tariff "
                    f"code, calculates {p + 5} percent duty on the declared value and files the "
                    f"entry within {p + 2} hours. Errors on {item} entries cost fines of up to "
                    f"{(p + 1) * 1000} euros, so brokers double-check the invoices.",
                ),
                (
                    f"Coordinating {other} in week {p + 1}",
                    f"The Freight Forwarder books {p + 3} containers of {other} on a vessel "
                    f"leaving on day {p + 10}, negotiates the rate with the carrier and sends "
                    f"the bill of lading for the {other} to the broker {p + 1} days ahead.",
                ),
            ]
        )
    return out


def make_pdf(
    path: Path,
    title: str,
    sections: list[tuple[str, str]],
    *,
    pages: int = 1,
    text: bool = True,
    per_page: list[list[tuple[str, str]]] | None = None,
) -> Path:
    """A real PDF written with reportlab: a title, then headed paragraphs, ``pages`` pages
    (``per_page``: different sections on each page)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate
    from reportlab.platypus.flowables import HRFlowable

    buf = io.BytesIO()
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title if text else "")
    story = []
    for page in range(pages):
        if text:
            if page == 0:
                story.append(Paragraph(title, styles["Title"]))
            for heading, body in per_page[page] if per_page else sections:
                suffix = f" {page + 1}" if pages > 1 and not per_page else ""
                story.append(Paragraph(heading + suffix, styles["Heading2"]))
                story.append(Paragraph(body, styles["BodyText"]))
        else:  # a "scan": drawings, no text layer
            story.append(HRFlowable(width="80%", thickness=40))
        if page < pages - 1:
            story.append(PageBreak())
    doc.build(story)
    path.write_bytes(buf.getvalue())
    return path


class Site:
    """A local web server on 127.0.0.1 with routes for every case the fetcher must handle."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/loop"):
                    n = int(self.path.removeprefix("/loop") or 0)
                    self.send_response(302)
                    self.send_header("Location", f"/loop{n + 1}")
                    self.end_headers()
                    return
                if self.path == "/slow":
                    time.sleep(3)
                if self.path == "/huge":  # no Content-Length: the cap must apply while reading
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    block = b"<p>" + b"word " * 20000 + b"</p>\n"
                    for _ in range(250):
                        self.wfile.write(block)
                    return
                status, ctype, body = site.routes.get(self.path, (404, "text/plain", b"missing"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)  # a client that gave up (the timeout test) is fine

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def tree_hashes(*folders: Path) -> dict[str, str]:
    """Every file's SHA-256 under the folders: 'byte for byte unchanged' made checkable."""
    found = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def copy_built(corpus_src: Path, home_src: Path, target: Path) -> tuple[Path, Path]:
    """A private corpus and index, copied with their times so nothing is re-embedded."""
    corpus, home = target / "corpus", target / "home"
    shutil.copytree(corpus_src, corpus)
    shutil.copytree(home_src, home, ignore=shutil.ignore_patterns("log.sqlite3*", "*.lock"))
    return corpus, home
