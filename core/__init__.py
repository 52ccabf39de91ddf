"""Shared kernel: settings, database, time, language. Imports no other first-party package."""
