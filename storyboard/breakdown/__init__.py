"""The breakdown: a story or screenplay into a series, by a language model (``storyboard
breakdown``). ``pipeline.breakdown`` is the one call; docs/breakdown.md says how it works."""
