"""YAML files into compiled, provider-neutral shot requests: the language's stages.

``load`` (YAML with source spans) -> ``validate`` (schema and meaning) -> ``expand`` (variations,
templates, sandboxed Jinja) -> ``resolve`` (characters, labels, timing) -> ``compile`` (requests and a
manifest, one hash per shot). Nothing here knows who renders: targets are read as data.
"""
