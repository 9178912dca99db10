"""``storyboard.lock`` and what it records: the file (``lockfile``), derived takes (``derived``), a
take's pictures (``pictures``) and whether a board may be sent (``boardbytes``); the take each shot
uses is ``run/state/takes.py``, where each take's file is ``run/state/rendered.py``."""
