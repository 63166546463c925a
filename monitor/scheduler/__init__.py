"""Unattended monitoring: APScheduler jobs in the shop database, one active scheduler at a time.

Kept import-light: ``monitor.config`` imports the config section from here.
"""
