"""Wire targets as data: each gateway's declaration (``gateways``), its task protocol and statuses
(``tasks``), its failure words (``failures``) and where its model catalogue is read
(``catalogues``)."""
