"""Command lines into library calls: the ``storyboard`` command (``main``) and its click group (``cli``).

The group and the exit codes are in ``main``; each command lives in the module named for it
(``render``: check, compile, plan, render, status, cancel; ``emulate``; ``review``; ...).
"""

from storyboard.cli.main import cli, main

__all__ = ["cli", "main"]
