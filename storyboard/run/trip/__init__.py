"""A shot's trip to the provider into one floor: submit, reconcile, poll, download, cancel, checks.

It writes what it learns into ``storyboard.run.state`` (the journal, the cache, the lock file) and
never imports the route above it (``storyboard.run.setup``, ``rendering``, ``pipeline``).
"""
