"""Read-only metrics over the conversation log, the exchange log and the handoff desk.

The definitions are in docs/metrics.md; ``metrics`` and ``scorecard`` compute them from plain
rows, ``queries`` loads those rows, ``service`` puts the two together for ``routes``.
"""
