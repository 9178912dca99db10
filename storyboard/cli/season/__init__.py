"""A season's side of ``plan`` and ``render``: ``--episodes``, ``--season`` with its admission,
the delivered season and ``status --season``."""
