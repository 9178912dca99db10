"""The commands around a series: ``config``, ``doctor``, ``docs``, ``models`` (with ``models
check``'s report in ``catalogue_report``)."""
