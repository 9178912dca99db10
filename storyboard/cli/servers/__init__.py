"""The commands that keep running: ``emulate``, ``mcp`` and ``studio``, each flags onto one
library server."""
