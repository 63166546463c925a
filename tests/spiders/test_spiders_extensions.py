"""No crawl opens a remote-control server or a telnet console (issue 12 item 6).

Scrapy 2.19 enables ``RemoteControl`` by default: an HTTP server that executes Python code sent
to it, plus a job file in the user's profile. The check builds a real crawler from the settings
every crawl uses and lists the extensions it would start (in a subprocess: the reactor is global).
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.extension import ExtensionManager
from scrapy.settings import Settings as ScrapySettings
from monitor.config import load_settings
from spiders.settings import scrapy_settings

class Probe(Spider):
    name = "probe"

crawler = Crawler(Probe, ScrapySettings(scrapy_settings(load_settings(data_dir="data"))))
crawler._apply_settings()
print(json.dumps([type(m).__name__ for m in ExtensionManager.from_crawler(crawler).middlewares]))
"""


def test_no_remote_control_or_telnet_extension_is_started(tmp_path) -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    names = json.loads(out.stdout.strip().splitlines()[-1])
    assert "CoreStats" in names  # the probe did build the extension list
    assert "RemoteControl" not in names and "TelnetConsole" not in names
