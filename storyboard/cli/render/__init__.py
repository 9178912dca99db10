"""The series commands: ``check``, ``compile``, ``plan``, ``render``, ``status``, ``cancel``, and
what money leaves behind (``task``, ``cache``).

``commands`` holds the commands, ``comparing`` prices a series on models side by side,
``prompt_form`` prints each shot's prompt; their flags are ``cli/flags``, their run ``cli/runs``.
"""
