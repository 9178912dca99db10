"""Renders queued on the team ledger, and the workers that render them (``queue render``,
``storyboard worker``)."""
