"""Parse functions: a Scrapy ``TextResponse`` in, normalised items out. No crawl state, no database.

Spiders call them from their callbacks, ``shopmon parse`` calls them on saved pages (through
``spiders.parsing.detect.parse_page``, which builds the response with
``spiders.parsing.responses.response_for``), and benchmarks/parse.py times them.
"""
