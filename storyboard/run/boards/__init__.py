"""Boards into what waits on them: the gate, approvals of many at once, and the board animatic."""
