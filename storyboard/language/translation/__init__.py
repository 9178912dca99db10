"""A series' ``languages:`` into its versions: which languages and voices (``languages``), each
version's file of lines (``versions``, ``languages/<lang>/<episode>.yaml``), whether a line fits its
window (``fit``), ``check``'s warnings on them (``versioncheck``) and their spoken lines
(``dubbing``). Above ``resolving`` and ``expansion``.
"""
