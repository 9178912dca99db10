"""Every gateway dialect and vendor API on loopback, over the one emulated service.

``routes`` serves each dialect's paths, auth and words from the production declarations; ``bodies``
refuses what a gateway refuses, ``unwire`` reads a body back into a native one. Beside them each
vendor's own calls: Ark's asset library (``arkassets``, ``portraits``), Kling's elements and voices
(``elements``, ``kvoices``), the image APIs (``imageroutes``) and the model catalogues.
"""
