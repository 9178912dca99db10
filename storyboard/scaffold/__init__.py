"""Names and screenplays into new series folders: what ``storyboard init`` writes.

``init.create(folder, template)`` writes a small series from a built-in template (``series`` or
``ad``); ``init.create_from(folder, screenplay)`` turns a Fountain screenplay into one: ``fountain``
parses it, ``convert`` maps its elements onto episodes (``names`` makes the keys, ``timing`` times
the shots, ``episodes`` cuts them to length), ``emit`` writes the YAML through ``yamltext``, and
``screenplay`` puts it together. Both refuse a folder that is not new or empty, and draw placeholder
reference images with ffmpeg (``placeholder``).
"""
