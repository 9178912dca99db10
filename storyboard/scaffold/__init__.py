"""Names and screenplays into new series folders: what ``storyboard init`` writes.

``init.create(folder, template)`` writes a small series from a built-in template (``series`` or
``ad``); ``init.create_from(folder, screenplay)`` turns a Fountain screenplay into one
(``fountain`` parses it, ``screenplay`` maps it onto the language). Both refuse a folder that is
not empty, and draw placeholder reference images with ffmpeg (``placeholder``).
"""
