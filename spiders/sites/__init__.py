"""One spider per site, named like its file."""
