"""``storyboard.lock`` and the takes it records: the file (``lockfile``), the take each shot uses
(``takes``), derived takes (``derived``), a take's pictures (``pictures``), where each take's file is
(``rendered``) and whether a board may be sent (``boardbytes``)."""
