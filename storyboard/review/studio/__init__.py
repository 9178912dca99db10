"""A series folder into a live review page on loopback: watched, checked, drafted, noted.

``state`` keeps what the page shows (refreshed on every save), ``app`` serves it over HTTP with
its guards, ``controls`` is the page's live half, ``server`` runs it all until Ctrl-C.
"""
