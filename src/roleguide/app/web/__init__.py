"""The web app: the Gradio page, its assets, and the HTTP API on the same server."""
