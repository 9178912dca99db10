"""A template name into a new series folder: the files ``storyboard init`` writes, and how.

A ``Blueprint`` is what a series will hold: YAML texts by path, with the schema each one follows.
Its cast is described in words (``image: {generate: ...}``, voices by ``design:``), to be generated
by the provider; ``init`` draws no picture. ``write`` puts it into the folder: it refuses a folder
that exists and is not empty (or is a link, or would be under a file), builds everything in a
temporary folder beside it and moves that into place, so a failure (a full disk, SIGTERM) leaves
nothing half-written; what a SIGKILL left, the next ``init`` of that folder removes.

Each YAML file starts with the schema line editors read (``# yaml-language-server: $schema=...``),
naming by a relative path the copy of the shipped schemas that ``init`` writes into the series'
``schemas/`` folder: the series carries what its lines name, so a clone on another machine (or a
wheel's user) finds it. Never this machine's absolute path, never a URL (none is published).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from storyboard.errors import StoryboardError
from storyboard.files import NEW_FILE_MODE
from storyboard.language.read.schemacheck import schema_dir
from storyboard.scaffold.blueprint import EPISODE_SCHEMA, SERIES_SCHEMA, Blueprint
from storyboard.scaffold.episodes import DEFAULT_MINUTES
from storyboard.scaffold.screenplay import blueprint_of
from storyboard.scaffold.yamltext import fold, quote

Template = Literal["series", "ad"]


class FolderNotEmpty(StoryboardError):
    """``init`` never writes into a folder that holds anything (nor through a link)."""


SCHEMAS = "schemas"  # the series' own copy of the schemas its files' first lines name


def schema_ref(name: str, schema: str) -> str:
    """The path an editor should read ``schema`` from, seen from the series' file ``name``
    (relative to the series folder): the series' own copy, by a relative path."""
    return Path(os.path.relpath(Path(SCHEMAS, schema), Path(name).parent)).as_posix()


def schema_line(name: str, schema: str) -> str:
    return f"# yaml-language-server: $schema={fold(schema_ref(name, schema))}\n"


def _copy_schemas(staging: Path) -> None:
    """The shipped schemas into the series (the episode schema refers to the series one beside it)."""
    (staging / SCHEMAS).mkdir()
    for schema in (SERIES_SCHEMA, EPISODE_SCHEMA):
        shutil.copyfile(schema_dir() / schema, staging / SCHEMAS / schema)


def refuse_unless_empty(folder: Path) -> None:
    """Raise ``FolderNotEmpty`` unless ``folder`` is new or an empty folder: a link (even one to
    an empty folder, or one that leads nowhere), a file, a folder under a file, or a folder that
    holds anything is refused."""
    if folder.is_symlink():
        raise FolderNotEmpty(f"{folder} is a link: init writes only into a new or empty folder, "
                             "not through a link (choose the folder itself)")
    parent = next((p for p in folder.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise FolderNotEmpty(f"{parent} is a file, so no folder can be made under it: choose "
                             "another place")
    if folder.exists() and not folder.is_dir():
        raise FolderNotEmpty(f"{folder} exists and is not a folder: choose a new folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise FolderNotEmpty(f"{folder} is not empty: init writes only into a new or empty folder "
                             "(nothing was changed)")


STAGING = ".{name}.init-{pid}-"  # the folder a series is built in, beside its place


def _sweep(folder: Path) -> None:
    """Remove what an ``init`` killed before it could clean up left beside ``folder``."""
    for stale in folder.parent.glob(f".{glob.escape(folder.name)}.init-*-*"):
        pid = stale.name[len(folder.name) + len(".init-") + 1:].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)) and stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextlib.contextmanager
def _terminations_as_exit() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP end the process through ``finally`` blocks (as
    Ctrl-C does), so a killed ``init`` still removes its staging folder."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)
    previous = {sig: signal.signal(sig, leave) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def write(folder: Path, blueprint: Blueprint) -> list[Path]:
    """Write ``blueprint`` into ``folder`` (new or empty); return the files written."""
    refuse_unless_empty(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        _sweep(folder)
        with _terminations_as_exit():
            _stage(folder, blueprint)
    except OSError as exc:
        raise StoryboardError(f"cannot write {folder}: {exc.strerror or exc}") from exc
    return written(folder, blueprint)


def written(folder: Path, blueprint: Blueprint) -> list[Path]:
    """The files ``write`` puts into ``folder`` for ``blueprint``, sorted."""
    schemas = [f"{SCHEMAS}/{schema}" for schema in (SERIES_SCHEMA, EPISODE_SCHEMA)]
    return sorted(folder / name for name in [*blueprint.files, *blueprint.plain, *schemas])


def _stage(folder: Path, blueprint: Blueprint) -> None:
    prefix = STAGING.format(name=folder.name, pid=os.getpid())
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=folder.parent))
    try:
        _fill(staging, blueprint)
        staging.chmod(NEW_FILE_MODE | (NEW_FILE_MODE & 0o444) >> 2)  # mkdtemp's is private
        if folder.is_dir():
            folder.rmdir()
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _fill(staging: Path, blueprint: Blueprint) -> None:
    _copy_schemas(staging)
    for name, (schema, text) in blueprint.files.items():
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(schema_line(name, schema) + text, encoding="utf-8",
                        errors="surrogateescape")
    for name, text in blueprint.plain.items():
        (staging / name).write_text(text, encoding="utf-8")


def title_of(folder: Path) -> str:
    """A title from a folder name: ``my-first_show`` -> ``My First Show``."""
    name = folder.resolve().name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    words = name.replace("-", " ").replace("_", " ").split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or "My Series"


SERIES_YAML = """\
# A new series, written by `storyboard init`. How to go on: `storyboard docs starting`;
# every key of the language: `storyboard docs language`.
#   storyboard check .            every problem at once, each at file:line:col
#   storyboard render . --draft   a local animatic: no account, no network, no cost
storyboard: 1                     # the language version
title: {title}
defaults:                         # shot parameters; an episode or a shot may override any of them
  resolution: 720P                # 720P | 1080P
  ratio: "16:9"                   # 16:9 | 9:16 | 1:1 | 4:3 | 3:4
  duration: 4                     # whole seconds (2..15 with image references)
  negative_prompt: blurry, low quality, watermark
  prompt_extend: false
  watermark: false
  seed: 1234                      # the same seed and request give the same shot
style: "clean storybook illustration, soft daylight"   # the look of every generated picture
voices:                           # how a character sounds: designed from words, or {{audio: PATH}}
  # the service designs the voice; its preview, saying the sample line, becomes its reference
  ada-voice: {{design: "a warm, curious woman in her forties, clear and unhurried",
              sample: "Let's build something."}}
characters:                       # whatever the model keeps consistent: people, props, places
  ada:
    # generated from these words before the shots (edit them freely), or a picture of your
    # own instead: image: media/cast/ada.png. See `storyboard docs cast`, "The cast".
    image: {{generate: "an inventor in her forties, curly grey hair, brass goggles on her
      forehead, a leather apron over a linen shirt"}}
    voice: ada-voice
    description: an inventor in a leather apron
episodes:                         # files or globs (sorted), or inline episode mappings
  - episodes/*.yaml
"""

SERIES_EPISODE = """\
# An episode: shots in order, joined by their transitions. See `storyboard docs language`, "An episode".
id: ep01
title: Pilot
shots:
  - id: arrival
    duration: 4
    scenes:                       # timed windows: "A-Bs", in order, within the shot
      - at: 0-2s
        action: "@ada walks into a sunlit workshop and looks around"
      - at: 2-4s
        action: "@ada turns to the camera and smiles"
        say: {ada: "Let's build something."}
  - id: sketch
    transition: {type: crossfade, duration: 0.5}   # how this shot joins the one before
    prompt: "@ada sketches a strange machine on a large sheet of paper, close-up"
"""


def series_blueprint(folder: Path) -> Blueprint:
    """The ``series`` template: one character, one episode of two shots."""
    return Blueprint(
        files={"storyboard.yaml": (SERIES_SCHEMA, SERIES_YAML.format(title=quote(title_of(folder)))),
               "episodes/01-pilot.yaml": (EPISODE_SCHEMA, SERIES_EPISODE)},
        episodes=1, shots=2, images=1, voices=1)


AD_YAML = """\
# A small ad, written by `storyboard init --template ad`: one storyboard, several variations
# (`storyboard docs language`, "Variations"). How to go on: `storyboard docs starting`.
#   storyboard plan .             per variation: what is shared, what is new
#   storyboard render . --draft   every variation as a local animatic, at no cost
storyboard: 1
title: "{{{{ copy[lang].title }}}}"
defaults:
  resolution: 720P
  duration: 5
  negative_prompt: blurry, low quality, watermark, text artifacts
  prompt_extend: false
  watermark: false
  seed: 2024
vars:                             # data the strings below use as {{{{ name }}}}
  product: bottle
  lang: en
  copy:
    en: {{title: {title}, cta: "Refill it. Keep it. Every day."}}
    es: {{title: {title}, cta: "Rellénala. Guárdala. Cada día."}}
variations:                       # every combination of the axes, less the excluded ones
  matrix:
    lang: [en, es]
    ratio: ["9:16", "16:9"]
  name: "{{{{ lang }}}}-{{{{ ratio | replace(':', 'x') }}}}"
characters:
  # generated from its words (kind: prop: three views), or a product shot of your own instead:
  # image: media/bottle.png
  bottle:
    image: {{generate: "a brushed steel water bottle with a black screw cap", kind: prop}}
    description: a steel water bottle
episodes:
  - episodes/ad.yaml
"""

AD_EPISODE = """\
# The ad's shots come from the shot templates shipped with storyboard (hook, product-hero,
# testimonial, cta); a series' own templates/NAME.yaml come first. See `storyboard docs language`.
# The hook and the hero name no language, so each is rendered once per ratio.
id: ad
title: "{{ copy[lang].title }}"
end_card:
  text: "{{ copy[lang].cta }}"
  duration: 2
shots:
  - use: hook
    with: {subject: "{{ product }}", motion: "turns slowly as drops of water run down it"}
  - use: product-hero
    with: {product: "{{ product }}", feature: "the brushed steel catching the light"}
"""


def ad_blueprint(folder: Path) -> Blueprint:
    """The ``ad`` template: a product, two languages by two ratios, shipped shot templates."""
    title = quote(title_of(folder))
    return Blueprint(
        files={"storyboard.yaml": (SERIES_SCHEMA, AD_YAML.format(title=title)),
               "episodes/ad.yaml": (EPISODE_SCHEMA, AD_EPISODE)},
        episodes=1, shots=2, images=1)


def create(folder: Path, template: Template = "series") -> Blueprint:
    """Write the ``template`` series into ``folder`` (new or empty); return what was written."""
    blueprint = ad_blueprint(folder) if template == "ad" else series_blueprint(folder)
    write(folder, blueprint)
    return blueprint


def create_from(folder: Path, screenplay: Path, *,
                minutes: float = DEFAULT_MINUTES) -> Blueprint:
    """Write the series a Fountain screenplay maps onto into ``folder``; its ``warnings`` say
    what could not be mapped. Bad Fountain raises a located ``ProblemsFound``. A screenplay with
    no sections or acts is cut into episodes of about ``minutes`` each."""
    refuse_unless_empty(folder)
    blueprint = blueprint_of(screenplay, minutes=minutes)
    write(folder, blueprint)
    return blueprint
