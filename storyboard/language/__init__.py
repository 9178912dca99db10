"""YAML files into compiled, provider-neutral shot requests, in floors that import one way.

``read`` (files, YAML, schema) > ``expansion`` (variations, templates, sandboxed Jinja) |
``resolving`` (characters, media, looks, timing) > ``translation`` (other languages) > ``cache`` |
``lint`` > ``compile`` (requests and a manifest, one hash per shot; start here) > ``variations``.
Loose at the bottom are the two forms (``document``, ``request``) and what hashes (``hashing``) and
stores (``storedform``) them. Nothing here knows who renders: targets are read as data.
"""
