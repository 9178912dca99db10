"""The render commands' flags, the floor beneath every command that renders: the options they
share (``options``), click's parameters into ``RenderFlags`` and ``--episodes`` into shots
(``renderflags``), and the one table of flags that do not go together (``conflicts``)."""
