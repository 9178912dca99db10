"""A version in another language, made from the approved cut: ``plan`` and ``render --language``
(``plan``, ``dubbing``) and what their reports say (``view``)."""
