"""Expanded documents into resolved shots: a shot's keys, then the passes of ``resolve.PASSES`` (a
new pass is one entry). ``resolved`` is what the passes share; each pass reads one thing: the cast
and its media (``cast``, ``resolvemedia``), made faces (``identity``), ``looks``, ``boards``,
timed ``scenes``, a line's routes to the lips (``liproutes``), and what each model refuses (``modelcheck``).
Above ``read``; peer of ``expansion``: neither imports the other.
"""
