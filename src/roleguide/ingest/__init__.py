"""Stages 1–4: read the corpus, split articles into chunks, bring the index in line."""
