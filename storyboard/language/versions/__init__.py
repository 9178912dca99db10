"""A series' ``languages:`` into its versions: which languages and voices (``languages``), each
version's file of lines (``versionfile``, ``languages/<lang>/<episode>.yaml``), whether a line fits
its window (``linefit``), ``check``'s warnings on them (``versioncheck``) and their spoken lines
(``speech``). Above ``resolving`` and ``expansion``.
"""
