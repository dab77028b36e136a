"""Questions in, cited answers out: understanding the question, retrieval, answer, optional LLM."""
