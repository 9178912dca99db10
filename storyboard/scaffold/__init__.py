"""Names and screenplays into new series folders: what ``storyboard init`` writes.

``init.create(folder, template)`` writes a small series from a built-in template (``series`` or
``ad``); ``init.create_from(folder, screenplay)`` turns a Fountain screenplay into one: ``fountain``
parses it, ``convert`` maps its elements onto episodes (``namekeys`` makes the keys, ``timing`` times
the shots, ``episodes`` cuts them to length), ``emit`` writes the YAML through ``yamltext``, and
``screenplay`` puts it together, ``cast`` finding the words for each picture and voice. Both
refuse a folder that is not new or empty, and describe the cast in words (``image: {generate:
...}``, voices by ``design:``) for the provider to generate: ``init`` draws no picture.
"""
