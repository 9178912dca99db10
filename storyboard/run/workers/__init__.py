"""Renders queued on the team ledger, and the workers that render them (``render --queue``,
``storyboard worker``)."""
