"""Where the index lives: Chroma sentence vectors, the BM25 side, embeddings, generations."""
