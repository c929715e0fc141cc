"""Everything about the blog's posts: reading them, indexing them, finding them."""
