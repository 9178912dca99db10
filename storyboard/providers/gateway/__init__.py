"""A gateway as a provider: one transport driven by a dialect, and its settings."""
