"""The staff case board: FastAPI + Jinja2 pages over the same settings and database as the CLI."""
