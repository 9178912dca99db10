"""The commands that write a series' files: ``init`` (a template or a screenplay), ``breakdown`` (a
story, by a language model) and ``translate`` (a version's words)."""
