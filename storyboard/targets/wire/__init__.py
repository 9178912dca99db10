"""Wire targets as data: each gateway's declaration (``gateways``), its failure words
(``failures``) and where its model catalogue is read (``catalogues``); the task protocol and
statuses every gateway declares are ``targets/taskapi.py``."""
