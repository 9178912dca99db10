"""What a team keeps in common into storage: the render store (fsspec) and the task ledgers.

Storage only: what a run does with it (a lookup before a submit, a push after a render) lives in
``storyboard.run.state.sharing``, push and pull of a whole series in ``storyboard.run.sync``.
"""
