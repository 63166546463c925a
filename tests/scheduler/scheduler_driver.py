"""Runs ``shopmon schedule`` in a subprocess with the hooks pointed at the test doubles.

Usage: python scheduler_driver.py HOOKS_JSON shopmon-arguments...
"""

import json
import sys

from monitor.cli import main
from monitor.scheduler import tasks

if __name__ == "__main__":
    tasks.HOOKS.update(json.loads(sys.argv[1]))
    sys.exit(main(sys.argv[2:]))
