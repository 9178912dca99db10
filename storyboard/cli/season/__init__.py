"""A season's side of ``plan`` and ``render``: ``season render`` (``commands``), ``plan --season``
with the admission (``admission``) and ``status --season`` (``episodes``)."""
