"""The pictures' join: clip files probed and joined by copy (``concat``), their facts kept by
content (``facts``), mezzanines encoded once (``mezzanine``), segments that copy shot bodies
(``segments``) and the transitions' frames blended once (``blends``)."""
