"""Rendered shots into what a team shares: the render store, the task ledgers, push and pull.
"""
