"""A team's commands: ``storyboard worker`` and the queue (``worker``), ``queue render``
(``queue``), ``push`` and ``pull`` (``store``)."""
