"""An episode's sound: the final mix, loudness and mux (``audio``), each clip's loudness
(``loudness``), dialogue spliced from AAC packets (``splice``, ``aac``)."""
