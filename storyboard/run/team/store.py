"""Rendered shots into a shared, content-addressed store and back, through fsspec.

A store is a folder (a network share), ``s3://bucket/prefix`` or anything else fsspec reaches
(``gs://``, ``az://``, ``ssh://``, each backend an extra). Its layout, under the store's root::

    v1/videos/<sha256>.mp4              a rendered video, named by the sha256 of its bytes
    v1/shots/<cache_key>/<hash>.json    what rendered a shot: hash, provider, sha256, task id,
                                        cost, size, media facts (no secret, no local path)
    v1/measured/<sha256>.json           a video's measurement (cuts, black, freezes, silence,
                                        loudness: ``storyboard takes``' facts), so a teammate who
                                        pulls it does not decode it again
    v1/people/<sha256>.json             who is in a take, a board or a character's picture
                                        (faces, costumes, light), measured once for the team
    v1/tmp/<random>.part                uploads in progress (those a killed push left are
                                        removed by the next ``storyboard push``, after a day)

Every object is uploaded to a temporary key and then moved into place, and a shot's record is
written only after its video is in place, so a half-pushed shot is never a hit: a reader either
finds no record, or a record whose video is complete. A pulled video is checked against the
sha256 the lock file (or else the record) names before it enters the local cache.

Credentials come only from the backends' usual places (the environment, their config files); the
schema refuses credential-like options and passwords in URLs, and every message shows the URL with
any user part removed and known secret values replaced by ``***``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storyboard.errors import MissingExtra, StoreCorrupt, StoreError, StoreUnreachable, mask_userinfo
from storyboard.media.probes.probe import sha256_file

STORE_ENV = "STORYBOARD_STORE"
LAYOUT = "v1"
MEASURED = "measured"  # a video's facts (cuts, black, freezes, silence, loudness)
PEOPLE = "people"  # who is in a file: faces, costumes, light (``run.state.people``)
STALE_UPLOAD = 86400.0  # seconds: an upload in v1/tmp this old was left by a killed push
SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_KEY",
              "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_CLIENT_SECRET",  # adlfs reads these two
              "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_CONNECTION_STRING", "GOOGLE_OAUTH_TOKEN")
EXTRAS = {"s3": "store-s3", "s3a": "store-s3", "gs": "store-gcs", "gcs": "store-gcs",
          "az": "store-azure", "abfs": "store-azure", "abfss": "store-azure", "ssh": "store-ssh",
          "sftp": "store-ssh"}
BACKEND_LOGGERS = ("fsspec", "s3fs", "aiobotocore", "botocore", "gcsfs", "google", "adlfs",
                   "azure", "sshfs", "asyncssh")
SSH_SCHEMES = frozenset({"ssh", "sftp"})  # asyncssh's default known_hosts is ``()``
FOLDER_PROTOCOLS = frozenset({"file", "local", "ssh", "sftp"})
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StoreExtraMissing(MissingExtra, StoreError):
    """The store's library (fsspec, or a backend of it) is not installed."""


def redact(url: str) -> str:
    """A store URL fit to print: without any ``user[:password]@`` part."""
    return _USERINFO.sub(r"\1", url)


def scrub(text: str, url: str = "") -> str:
    """A message from a backend with every known secret value from the environment, and the
    user-info of the store's ``url``, masked."""
    text = mask_userinfo(text, url)
    for name in SECRET_ENV:
        value = os.environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


@dataclass(frozen=True)
class StoreSettings:
    """Where the store is: ``url`` (a folder is made absolute) and the backend's options."""

    url: str
    options: Mapping[str, Any] = field(default_factory=dict)
    origin: str = "store"  # "STORYBOARD_STORE" or "store" (the series file): for messages

    @property
    def shown(self) -> str:
        return redact(self.url)


def store_settings(setting: Any, root: Path,
                   environ: Mapping[str, str] | None = None) -> StoreSettings | None:
    """The store to use: ``STORYBOARD_STORE`` wins over the series' ``store:``; None for none.

    A folder in the series file is relative to the series folder; one in the environment is
    relative to the current directory, like any path typed in a shell.
    """
    env = os.environ if environ is None else environ
    if env.get(STORE_ENV, "").strip():
        return StoreSettings(_absolute(env[STORE_ENV].strip(), Path.cwd()), {}, STORE_ENV)
    if setting is None:
        return None
    if isinstance(setting, str):
        return StoreSettings(_absolute(setting, root))
    if isinstance(setting, Mapping) and isinstance(setting.get("url"), str):
        return StoreSettings(_absolute(setting["url"], root), dict(setting.get("options") or {}))
    raise StoreError(f"store: expected a URL or {{url, options}}, got {setting!r}")


def _absolute(url: str, base: Path) -> str:
    if _SCHEME.match(url):
        return url
    return str((base / Path(url).expanduser()).resolve())


@dataclass(frozen=True)
class Record:
    """A shot's record in the store (the JSON beside its video)."""

    hash: str
    cache_key: str
    sha256: str
    size: int
    data: Mapping[str, Any]


class RenderStore:
    """One store: list, look up, pull (verified) and push (atomic) rendered shots."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        self._fs: Any = None
        self._root = ""

    @property
    def shown(self) -> str:
        return self.settings.shown

    # --- the backend, opened lazily; its errors translated here ---------------------------------

    def _open(self) -> tuple[Any, str]:
        if self._fs is None:
            self._fs, self._root = _open_fs(self.settings)
        return self._fs, self._root

    @contextmanager
    def _talking(self, what: str) -> Iterator[Any]:
        """Any backend failure becomes StoreUnreachable, named and scrubbed."""
        try:
            yield self._open()[0]
        except StoreError:
            raise
        except Exception as exc:
            detail = scrub(f"{type(exc).__name__}: {exc}".strip().rstrip(":"), self.settings.url)
            raise StoreUnreachable(f"store {self.shown}: cannot {what}: {detail}") from exc

    def _key(self, *parts: str) -> str:
        root = self._open()[1].rstrip("/")
        return "/".join([root, LAYOUT, *parts]) if root else "/".join([LAYOUT, *parts])

    def _record_key(self, cache_key: str, shot_hash: str) -> str:
        return self._key("shots", _UNSAFE.sub("_", cache_key) or "default", f"{shot_hash}.json")

    def _video_key(self, sha256: str) -> str:
        return self._key("videos", f"{sha256}.mp4")

    def _measured_key(self, sha256: str, of: str = MEASURED) -> str:
        return self._key(of, f"{sha256}.json")

    # --- reading --------------------------------------------------------------------------------

    def hashes(self, cache_key: str) -> set[str]:
        """Every shot hash with a record for ``cache_key``: one listing."""
        with self._talking("list the shots") as fs:
            folder = self._record_key(cache_key, "x").rsplit("/", 1)[0]
            fs.invalidate_cache()
            try:
                names = fs.ls(folder, detail=False)
            except FileNotFoundError:
                self._check_root(fs)  # an empty store, or a typo in the bucket's name?
                return set()
        return {n.rsplit("/", 1)[-1][:-5] for n in names if str(n).endswith(".json")}

    def _check_root(self, fs: Any) -> None:
        """A folder store's parent folder, or an object store's bucket, must exist: a store is
        created by its first push, a bucket or a network share is not."""
        root = self._open()[1].rstrip("/")
        where = root.rsplit("/", 1)[0] if _has_folders(fs) else root.split("/", 1)[0]
        if where and not fs.exists(where):
            kind = "folder" if _has_folders(fs) else "bucket"
            raise StoreUnreachable(f"store {self.shown}: the {kind} {where!r} does not exist "
                                   "(or these credentials cannot see it)")

    def videos(self) -> set[str]:
        """The sha256 of every stored video: one listing."""
        with self._talking("list the videos") as fs:
            fs.invalidate_cache()
            try:
                names = fs.ls(self._key("videos"), detail=False)
            except FileNotFoundError:
                return set()
        return {n.rsplit("/", 1)[-1][:-4] for n in names if str(n).endswith(".mp4")}

    def record(self, cache_key: str, shot_hash: str) -> Record | None:
        """The record of a shot, or None when the store has none (or an unreadable one)."""
        with self._talking("read a shot record") as fs:
            try:
                raw = _read(fs, self._record_key(cache_key, shot_hash))
            except FileNotFoundError:
                return None
        try:
            data = json.loads(raw)
            record = Record(str(data["hash"]), cache_key, str(data["sha256"]), int(data["size"]),
                            data)
        except (ValueError, KeyError, TypeError):
            return None  # a damaged record is no hit; a push of the shot writes a good one
        return record if record.hash == shot_hash else None

    def has_video(self, sha256: str) -> bool:
        with self._talking("look up a video") as fs:
            return _there(fs, self._video_key(sha256))

    def pull(self, sha256: str, dest: Path) -> None:
        """Download the video named ``sha256`` into ``dest`` and prove its bytes are that."""
        with self._talking("download a video") as fs:
            try:
                fs.get_file(self._video_key(sha256), str(dest))
            except FileNotFoundError as exc:
                raise StoreCorrupt(f"store {self.shown}: the video {sha256[:12]}… is "
                                   "missing") from exc
        actual = sha256_file(dest)
        if actual != sha256:
            raise StoreCorrupt(f"store {self.shown}: the video {sha256[:12]}… failed its sha256 "
                               f"check (its bytes hash to {actual[:12]}…): refused")

    def measurement(self, sha256: str, of: str = MEASURED) -> object:
        """The stored measurement of the file named ``sha256`` as JSON, unchecked (None: the
        store has none, or not JSON); ``of``: ``MEASURED`` (a video's facts) or ``PEOPLE``."""
        with self._talking("read a measurement") as fs:
            try:
                raw = _read(fs, self._measured_key(sha256, of))
            except FileNotFoundError:
                return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def has_measurement(self, sha256: str, of: str = MEASURED) -> bool:
        with self._talking("look up a measurement") as fs:
            return _there(fs, self._measured_key(sha256, of))

    # --- writing --------------------------------------------------------------------------------

    def put_measurement(self, sha256: str, data: Mapping[str, Any], of: str = MEASURED) -> None:
        """Store the measurement of the file named ``sha256`` (replacing any: a file measured
        by one version gives the same facts wherever it is measured)."""
        body = json.dumps(dict(data), sort_keys=True, indent=1).encode() + b"\n"
        self._put(self._measured_key(sha256, of), lambda fs, key: fs.pipe_file(key, body))

    def push(self, record: Mapping[str, Any], video: Path, *, force: bool = False) -> bool:
        """Upload a shot's video (if the store lacks it) and then its record; True if anything
        was written. ``force`` replaces both (after a stored copy was refused)."""
        sha, cache_key, shot_hash = str(record["sha256"]), str(record["cache_key"]), str(
            record["hash"])
        wrote = False
        if force or not self.has_video(sha):
            self._put(self._video_key(sha), lambda fs, key: fs.put_file(str(video), key))
            wrote = True
        existing = None if force else self.record(cache_key, shot_hash)
        if existing is None or not self.has_video(existing.sha256):
            body = json.dumps(dict(record), sort_keys=True, indent=2).encode() + b"\n"
            self._put(self._record_key(cache_key, shot_hash),
                      lambda fs, key: fs.pipe_file(key, body))
            wrote = True
        return wrote

    def clean_uploads(self, older_than: float = STALE_UPLOAD) -> list[str]:
        """Remove what killed pushes left in ``v1/tmp`` (uploads older than ``older_than``
        seconds: a live one ends far sooner). An object whose age the backend cannot tell is
        left alone. Returns the keys removed."""
        removed: list[str] = []
        with self._talking("clean up its uploads") as fs:
            try:
                names = [str(n) for n in fs.ls(self._key("tmp"), detail=False)]
            except FileNotFoundError:
                return removed
            now = datetime.now(UTC)
            for name in (n for n in names if n.endswith(".part")):
                try:
                    when = fs.modified(name)
                except (NotImplementedError, FileNotFoundError):
                    continue
                when = when if when.tzinfo else when.replace(tzinfo=UTC)
                if (now - when).total_seconds() > older_than:
                    fs.rm(name)  # not rm_file: adlfs 2024.2 and 2024.4 have none
                    removed.append(name)
        return removed

    def _put(self, key: str, upload: Any) -> None:
        """Upload to a temporary key, then move it into place (``_placed``): a reader never
        sees a partial object under ``key``; an upload left by a failure is removed."""
        with self._talking("upload") as fs:
            tmp = self._key("tmp", f"{uuid.uuid4().hex}.part")
            if _has_folders(fs):  # object stores have none (and must not create buckets)
                fs.makedirs(tmp.rsplit("/", 1)[0], exist_ok=True)
                fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
            placed = False
            try:
                upload(fs, tmp)
                _placed(fs, tmp, key)
                placed = True
            finally:
                if not placed and fs.exists(tmp):
                    fs.rm(tmp)


def _read(fs: Any, key: str) -> bytes:
    """A small object's bytes in one request: read from its first byte (s3fs asks an object's
    size first otherwise: one request more, two where it is missing). Where the backend refuses
    that range (S3 on an empty object), read whole; missing: FileNotFoundError."""
    try:
        return bytes(fs.cat_file(key, start=0))
    except FileNotFoundError:
        raise
    except Exception:
        return bytes(fs.cat_file(key))


def _there(fs: Any, key: str) -> bool:
    """Whether the object ``key`` is stored, in one request: its first byte asked for (s3fs's
    ``exists`` asks for its head and, where it is missing, lists its folder too: two). Where the
    backend refuses that range (S3 on an empty object), its own lookup answers."""
    try:
        fs.cat_file(key, start=0, end=1)
    except FileNotFoundError:
        return False
    except Exception:
        return bool(fs.exists(key))
    return True


def _placed(fs: Any, tmp: str, key: str) -> None:
    """``tmp`` moved to ``key``: a rename where the store has folders; in an object store one
    server-side copy, then the upload removed (what fsspec's ``mv`` does there, without the
    lookups its globbing makes first: three requests an object fewer)."""
    if _has_folders(fs):
        fs.mv(tmp, key)
        return
    fs.cp_file(tmp, key)
    fs.rm(tmp)  # not rm_file: adlfs 2024.2 and 2024.4 have none


def _has_folders(fs: Any) -> bool:
    """A folder store or one over SFTP: real folders, which an upload needs made first and whose
    parent must exist (an object store has neither: only its bucket must exist)."""
    protocol = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return bool(FOLDER_PROTOCOLS & set(protocol))


def _quiet_backends() -> None:
    """The backends' own log records (gcsfs logs each failed request with its traceback) go to
    the handlers the user set up, if any, and are never printed by Python's last-resort handler:
    every failure reaches the user once, as the store's message."""
    for name in BACKEND_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


def _open_fs(settings: StoreSettings) -> tuple[Any, str]:
    scheme_match = _SCHEME.match(settings.url)
    scheme = scheme_match.group(1).lower() if scheme_match else "file"
    try:
        import fsspec
    except ImportError as exc:
        raise StoreExtraMissing("a render store", "store", exc.name) from exc
    _quiet_backends()
    options = dict(settings.options)
    options.setdefault("skip_instance_cache", True)  # a fresh view of a store others write to
    if scheme in SSH_SCHEMES:  # sshfs trusts any host key unless told: ~/.ssh/known_hosts
        options.setdefault("known_hosts", ())
    try:
        fs, root = fsspec.core.url_to_fs(settings.url, **options)
    except ImportError as exc:
        extra = EXTRAS.get(scheme, "store")
        raise StoreExtraMissing(f"store {settings.shown} ({scheme}://)", extra, exc.name) from exc
    except ValueError as exc:
        raise StoreError(f"store {settings.shown} ({settings.origin}): "
                         f"{scrub(str(exc), settings.url)}") from exc
    except Exception as exc:
        raise StoreUnreachable(f"store {settings.shown}: cannot open it: "
                               f"{scrub(f'{type(exc).__name__}: {exc}', settings.url)}") from exc
    return fs, str(root)
