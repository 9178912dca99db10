"""Command lines into library calls: the ``storyboard`` command (``main``) and its click group (``cli``).

The group and the exit codes are in ``main``; what every command shares sits beside it
(``common``, ``complete``, ``diagnostics``, ``examples``, ``variations``). The commands live in
packages by family: ``render`` (check, compile, plan, render, status, cancel), ``season``,
``versions``, ``review``, ``team``, ``writing``, ``setup``, ``servers``.
"""

from storyboard.cli.main import cli, main

__all__ = ["cli", "main"]
