"""ComfyUI servers on loopback: the real routes, ``/ws`` messages and node table, for tests.

``server`` answers the HTTP side and starts servers; ``state`` is one instance's queue and history,
``ws`` its socket messages, ``nodes`` the node table (``object_info.json``) graphs are checked by.
"""
