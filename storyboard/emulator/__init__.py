"""The DashScope native protocol into a local HTTP server: a faithful emulator for tests and demos.

It speaks spec sections 1 and 2 (submit, query, cancel, list, upload policy, OSS form upload, result
download) on loopback, renders results with the ``local`` provider, answers chat completions for
the breakdown (``chat``), serves every gateway dialect (``gateways``) and the cast (``cast``), and
fails on demand (see ``faults``). Start one in a test with
``EmulatorServer``, or from the shell with ``storyboard emulate``.

``GET /_emulator/stats`` (and ``EmulatorServer.stats()``) answers::

    {"submissions": {"total": N, "by_body": {SHA256: n}, "by_prompt": {SHA256: n}, "duplicates": n},
     "requests": {"submit": n, "query": n, "cancel": n, "list": n, "policy": n, "upload": n,
                  "download": n, "file": n, "retalk": n},   (every request, faulted ones too)
     "open": {"image": n, ...},                         (calls being answered now, by endpoint)
     "faults": {"submit:429": n, ...},                  (faults applied, by ENDPOINT:KIND[=ARG])
     "tasks": {"PENDING": n, "RUNNING": n, "SUCCEEDED": n, "FAILED": n, "CANCELED": n,
               "UNKNOWN": n},
     "renders": {"rendered": n, "cached": n}, "uploads": n,
     "streamed": n,                                    (bytes sent by endless downloads)
     "webhooks": {"204": n, ...},                      (gateway callbacks sent, by answer status)
     "cast": {"requests": {"image": n, "voice": n, "speech": n},
              "images": n, "voices": n, "characters": n,    (what the cast's routes billed;
                                                         images: boards' pictures too)
              "languages": {"English": n}},             (lines spoken, by language_type)
     "in_flight": {"now": {KEY: n}, "peak": {KEY: n}, "max": n, "throttled": n,
                   "task_seconds": s, "tasks_ended": n},
                              (tasks PENDING or RUNNING per key digest, never the key; the most
                               ever; submits refused past ``max_in_flight``; submit-to-end time)
     "chat": {"requests": n},     (chat completions, the breakdown's model: ``chat``)
     "queued": {"peak_running": {MODEL: n}, "waited": n}}
                              (a one-at-a-time service, videoretalk: the most of its tasks ever
                               running at once, and how many tasks waited for their turn)

``by_body`` keys are ``body_hash(body)`` (sha256 of the body's sorted-key JSON) and ``by_prompt``
keys ``prompt_hash(prompt)``; a submission counts once accepted, even if its answer was then lost.
"""

from storyboard.emulator.app import create_app
from storyboard.emulator.config import EmulatorConfig
from storyboard.emulator.faults import (
    Fault,
    FaultPlan,
    FaultRule,
    FaultSyntaxError,
    parse_fault,
    parse_fault_options,
    parse_rate,
    parse_script,
)
from storyboard.emulator.server import EmulatorServer, serve
from storyboard.emulator.state import body_hash, prompt_hash

__all__ = [
    "EmulatorConfig",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "FaultRule",
    "FaultSyntaxError",
    "body_hash",
    "create_app",
    "parse_fault",
    "parse_fault_options",
    "parse_rate",
    "parse_script",
    "prompt_hash",
    "serve",
]
