"""A render's run as the command line shows it, beneath ``render``, ``season``, ``versions``,
``team`` and ``review``: the run and its live view (``running``, ``renderview``), a version's
report (``versionview``) and the delivered season (``delivery``)."""
