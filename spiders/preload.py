"""What a crawl zygote imports (``monitor.crawl.SPIDER_PRELOAD``, ``monitor.zygote.start_zygote``).

Importing this module imports what a crawl child would otherwise import itself, every time, before
its first request: ``spiders.run``, Scrapy's crawler, the spiders' sites, and the module of every
component Scrapy loads by name while it builds a crawler (its default middlewares, extensions,
download handlers, scheduler, queues... and ours, from ``spiders.settings``; also those switched
off, which Scrapy imports all the same to put the list in order). Nothing here installs or starts
the Twisted reactor: the child installs its own.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil

import scrapy.crawler  # noqa: F401  (the crawl's CrawlerProcess)
from scrapy.settings import default_settings

import spiders.context  # noqa: F401  (the crawl's context and its store)
import spiders.run  # noqa: F401
from spiders import settings, sites

# Settings whose keys are component classes (the value orders them; None switches one off).
_COMPONENT_MAPS = ("DOWNLOADER_MIDDLEWARES_BASE", "SPIDER_MIDDLEWARES_BASE", "EXTENSIONS_BASE")
# Settings naming one class each, all of which a crawl loads.
_COMPONENTS = ("DNS_RESOLVER", "DOWNLOADER", "DUPEFILTER_CLASS", "ITEM_PROCESSOR", "LOG_FORMATTER",
               "REFERRER_POLICY", "REQUEST_FINGERPRINTER_CLASS", "ROBOTSTXT_PARSER", "SCHEDULER",
               "SCHEDULER_MEMORY_QUEUE", "SCHEDULER_PRIORITY_QUEUE", "SCHEDULER_START_MEMORY_QUEUE",
               "SPIDER_LOADER_CLASS", "STATS_CLASS")


def component_modules() -> list[str]:
    """The modules of the components a crawl with shopmon's Scrapy settings loads, in a stable order."""
    paths = [path for name in _COMPONENT_MAPS for path in getattr(default_settings, name)]
    paths += [path for ours in (settings.DOWNLOADER_MIDDLEWARES, settings.ITEM_PIPELINES, settings.EXTENSIONS)
              for path in ours]
    paths += [getattr(default_settings, name) for name in _COMPONENTS]
    paths += default_settings.DOWNLOAD_HANDLERS_BASE.values()  # Scrapy makes every scheme's handler
    return list(dict.fromkeys(path.rpartition(".")[0] for path in paths))


for _module in (*(f"spiders.sites.{m.name}" for m in pkgutil.iter_modules(sites.__path__)), *component_modules()):
    # A component whose optional dependency is missing is left to the crawl that needs it, as before.
    with contextlib.suppress(ImportError):
        importlib.import_module(_module)
