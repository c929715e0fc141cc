"""The corpus: reading a blog folder, chunking, ingest, the index and the embedder."""
