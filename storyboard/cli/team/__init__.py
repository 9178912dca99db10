"""A team's commands: ``storyboard worker`` and the queue (``worker``), ``push`` and ``pull``
(``store``)."""
