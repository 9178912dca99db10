"""Dialects: the neutral ShotRequest into the body one provider wants.

A dialect is mostly declarations (its limits, its words) plus one small ``body`` function; see
``native`` for DashScope's own protocol. Gateways (``../shared/spec/gateways.md``) slot in beside it.
"""
