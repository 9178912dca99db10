"""A checked series into what a next check reads back instead of redoing: the compiled series
(``checkcache``), each compiled episode (``episodecache``), unchanged episodes' resolved shots in a
process that keeps them (``incremental``), and whether a process keeps anything (``keeping``).
Each entry is signed through ``storedform``. Peer of ``lint``; only ``compile`` sits above.
"""
