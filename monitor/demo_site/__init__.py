"""The local demo marketplace ``shopmon demo`` crawls: ``pages`` (each platform's page formats from the
packaged fixtures) and ``server`` (HTTP on 127.0.0.1). Application layer: only the demo and tests use it."""
