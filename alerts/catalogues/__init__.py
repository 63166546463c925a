"""Message catalogues (JSON data files read by alerts.i18n through importlib.resources)."""
