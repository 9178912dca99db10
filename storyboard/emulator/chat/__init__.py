"""A chat model on loopback: the breakdown's and the translator's language model, deterministic.

``completions`` answers the HTTP side (DashScope's compatible mode and plain ``/v1``); ``answers``,
``season`` and ``versionwords`` (a version's words) make each stage's answer from the text given,
``names`` finds the people and places a tale names; ``faults`` bends answers the ways real models do.
"""
