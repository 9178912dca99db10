"""Resolved shots and compiled requests into warnings and errors, each at ``file:line:col``: a
target's limits (``limits``, ``retired``), the checks a compile runs on every shot
(``shotchecks``, ``wordingcheck``), a season's lints (``season``: ``continuity``, ``factcheck``,
``density``), and the problems a person should read first (``cascade``). Peer of ``cache``.
"""
