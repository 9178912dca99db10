"""What a person does with the takes: ``takes``, ``pick``, ``approve``, ``retake`` (``takes``, with
many boards at once in ``boards``), and the review sheet and editor timelines (``sheets``)."""
