"""The cast's services as data: image models, voice design and speech with their prices
(``assets``), and Ark's asset library where a portrait is made (``arkassets``)."""
