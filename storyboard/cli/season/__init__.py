"""A season's side of ``plan`` and ``render``: ``--episodes``, ``season render`` (``commands``)
and ``plan --season`` with the admission, the delivered season and ``status --season``."""
