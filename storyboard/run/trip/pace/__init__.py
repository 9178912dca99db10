"""When a shot's next step may go: slots, leases, turns, rates and patience (``paced``), and the
status callbacks that wake the pollers early (``webhooks``)."""
