"""One module per area of the board; each exposes ``router``."""
