"""The series commands: ``check``, ``compile``, ``plan``, ``render``, ``status``, ``cancel``, and
what money leaves behind (``task``, ``cache``).

``commands`` holds the commands; ``flags`` is the one place options become ``RenderFlags``,
``conflicts`` the one table of flags that do not go together, ``view`` prints plans and reports.
"""
