"""The series commands: ``check``, ``compile``, ``plan``, ``render``, ``status``, ``cancel``, and
what money leaves behind (``task``, ``cache``).

``commands`` holds the commands; ``options`` the flags the render commands share, ``flags`` is the
one place options become ``RenderFlags``, ``conflicts`` the one table of flags that do not go
together (and of ``render``'s old mode flags, now ``season``, ``version`` and ``queue render``),
``running`` runs a render and ``view`` prints plans and reports.
"""
