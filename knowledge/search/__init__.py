"""Search: hybrid retrieval, dates in queries, and the blog's posts as a catalog."""
