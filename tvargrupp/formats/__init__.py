"""Dates and times as each language writes them (FORMAT_MODULE_PATH)."""
