"""Paid tasks on record: the journal, one SQLite row an attempt (``journal``, its rows in
``attempts``), what holds a shot now (``inflight``) and a person's word on an ambiguous task
(``settle``)."""
