"""The ways in: the CLI and the web app (Gradio page, HTTP API, OpenAI-compatible chat)."""
