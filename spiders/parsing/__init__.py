"""Pure parse functions: bytes + URL in, normalised items out. No Scrapy, no database.

Spiders call these from their callbacks, ``shopmon parse`` calls them on saved pages (through
``spiders.parsing.detect.parse_page``), and benchmarks/parse.py times them.
"""
