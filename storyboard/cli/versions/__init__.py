"""A version in another language, made from the approved cut: ``plan --language`` and ``version
render`` (``plan``, ``commands``, ``making``)."""
