"""Composition root: builds the app from Settings, owns the CLI, migrations and staff web UI."""
