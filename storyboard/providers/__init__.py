"""Compiled shots into provider tasks: the local animatic, DashScope, and every gateway that resells it.

Each provider sends one request and translates one answer (``base.Provider``); the runner owns
retries, pacing, polling, the journal and the cache.
"""
