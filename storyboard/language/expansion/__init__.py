"""Documents into one series per variation: the ``variations`` matrix (``matrix``), shot templates
(``templates``), Jinja values in a sandbox (``sandbox``) with every cost capped (``caps``,
``templatetext`` without Jinja). Start at ``expand``; ``ids`` lists the ids a command line takes.
Above ``read``; peer of ``resolving``: neither imports the other.
"""
