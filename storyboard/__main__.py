"""``python -m storyboard``: the same as the ``storyboard`` command."""

from storyboard.cli import main

main()
