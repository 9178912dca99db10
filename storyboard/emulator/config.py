"""Emulator settings into one value: latency, key, policy lifetime, render mode, faults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.emulator.faults import FaultPlan


@dataclass
class EmulatorConfig:
    """How the emulator behaves. Every field has a default fit for a quick local run.

    - ``latency``: seconds from submit to SUCCEEDED (the first ``pending_share`` of it PENDING,
      the rest RUNNING; rendering a video comes on top, an image task's pictures are drawn
      meanwhile).
    - ``api_key``: when set, only this bearer key is accepted, else any non-empty one.
    - ``policy_ttl``: upload policy lifetime (the service's: 300 s).
    - ``plain_results``: render results without text and thumbnails (fast).
    - ``figures``: an image task's pictures (a board, a sheet) show the references it is sent,
      drawn large, as a take's do; False: its bands alone (a benchmark that times the client
      on the cores the emulator shares: the service draws on machines of its own).
    - ``seed``: reseeds the rate faults (None keeps the plan's own seed).
    - ``work_dir``: uploads and results live here (a temporary folder, removed at stop, if None).
    - ``utc_offset_hours``: the zone of every time the API prints and of the list call's window
      (the service does not document it; the project's client sends UTC).
    - ``retry_after``: the Retry-After of 429 answers; ``result_ttl``/``task_ttl``: how long
      result URLs and tasks live (24 h).
    - ``webhook_secret``: signs the status callbacks of gateways that send them.
    - ``fetch_media``: gateways fetch every media URL of a submit (a ranged GET) and refuse it
      with a 400 when one cannot be fetched, as a real gateway fails (tests serve the files).
    - ``list_key``: where the task list answer keeps its items: ``data`` (the API reference) or
      ``tasks`` (where the DashScope SDK 2.x reads a page); a client must read both.
    - ``max_in_flight``: the account's limit of tasks in flight (PENDING or RUNNING) per API key;
      a submit past it is answered 429 ``Throttling.RateQuota`` (None: no limit). The stats count
      the refusals and the most tasks in flight each key ever had.
    - ``catalogue_add``, ``catalogue_drop``, ``catalogue_prices``: how the gateways' model
      catalogues differ from the declared models (``storyboard models check`` reports it).
    - ``real_faces``: the file names (a URL's last part) of pictures a target that refuses
      faces by URL (Seedance on Ark, ModelArk) takes for a real person: a submit sending one is
      refused ``InputImageSensitiveContentDetected.PrivacyInformation``; ``portraits``: the
      asset ids its portrait library holds, Active (an ``asset://`` it does not hold is a 400);
      ``asset_library``: the account has the asset library add-on (off: every control-plane
      action is answered ``SubscriptionRequired``, ``arkassets``); ``asset_secret``: the
      account's secret access key the control plane verifies signatures with (else ``api_key``).
    """

    latency: float = 2.0
    api_key: str | None = None
    policy_ttl: float = 300.0
    plain_results: bool = False
    figures: bool = True
    faults: FaultPlan = field(default_factory=FaultPlan)
    seed: int | None = None
    work_dir: Path | None = None
    utc_offset_hours: float = 0.0
    retry_after: float = 1.0
    pending_share: float = 0.3
    max_file_size_mb: int = 100
    result_ttl: float = 86400.0
    task_ttl: float = 86400.0
    webhook_secret: str | None = None  # signs gateway callbacks (Standard Webhooks) when set
    fetch_media: bool = False
    list_key: str = "data"
    max_in_flight: int | None = None  # per API key; past it a submit is answered 429
    # The model catalogues' difference from the declarations (``models check``): ids listed
    # besides the declared ones, declared ids left out, and prices by model id and resolution.
    catalogue_add: tuple[str, ...] = ()
    catalogue_drop: tuple[str, ...] = ()
    catalogue_prices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    real_faces: tuple[str, ...] = ()
    portraits: tuple[str, ...] = ()
    asset_library: bool = True
    asset_secret: str | None = None  # the account's secret access key (None: ``api_key``)
