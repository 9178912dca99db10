"""What a trip checks so nothing paid is lost or paid twice: the inputs snapshot by content
(``inputs``), media URLs before a paid submit (``mediacheck``), a download's byte cap
(``downloadcap``), failures and downloads into verdicts (``verdicts``)."""
