"""Video models as data: each model's declaration (``models``, Kling 4.0's in ``kling4``), their
shape (``modelrules``), the ids vendors retired (``retired``) and each model's multi-shot wording
(``wording``)."""
