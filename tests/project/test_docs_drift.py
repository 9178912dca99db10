"""Docs and help that must say what the code does: the extras lists, the README tour's shot, the
prompt form `compile --format prompt` prints, and one wording (and exit code) for a missing extra."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.language.compile import compile_path

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"][
    "optional-dependencies"]


@pytest.mark.parametrize("page", ["README.md", "docs/internals.md", "docs/getting-started.md"])
def test_every_extra_is_listed_where_the_extras_are(page: str) -> None:
    text = (ROOT / page).read_text("utf-8")
    if page == "README.md":
        text = text[text.index("## Dependencies"):]
    missing = [extra for extra in EXTRAS if f"`{extra}`" not in text]
    assert missing == [], f"{page} does not name these extras: {missing}"


def test_the_readme_tour_names_shots_that_init_makes(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    named = re.findall(r"storyboard \w+ my-series (?:boards/)?((?:ep\d+|cast|voices)/[\w-]+)",
                       readme)  # a board (``boards/EP/SHOT``) names its shot
    assert named, "the tour names no shot of my-series"
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "my-series")])
    assert result.exit_code == 0, result.output
    manifest = compile_path(tmp_path / "my-series")
    shots = {shot.shot_id for shot in manifest.shots()}
    assert set(named) <= shots, (named, shots)


def test_the_readme_prompt_block_is_what_compile_format_prompt_prints() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "storyboard compile examples/coffee-shop --shot ballad --format prompt" in readme
    block = readme[readme.index("```text\nprompt:") + len("```text\n"):]
    block = block[:block.index("```")]
    result = CliRunner().invoke(cli, ["compile", str(ROOT / "examples" / "coffee-shop"), "--shot",
                                      "ballad", "--format", "prompt"])
    assert result.exit_code == 0, result.output
    assert result.output == block
    language = (ROOT / "docs" / "language.md").read_text("utf-8")
    assert block in language


def test_compile_format_prompt_heads_each_of_several_shots() -> None:
    result = CliRunner().invoke(cli, ["compile", str(ROOT / "examples" / "coffee-shop"),
                                      "--episode", "ep02", "--format", "prompt"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# ep02/order\nprompt: Scene 1 [0-2s]: Video 1 walks in")
    assert "\n\n# ep02/serve\nprompt: Scene 1 [0-3s]: Image 1 slides a cup" in result.output
    assert "media:  [{type: reference_image, url: media/cast/mia.png, " \
           "reference_voice: media/voices/mia.wav},\n         {type: reference_video, " \
           "url: media/cast/sam.mp4},\n         {type: first_frame, url: {asset: " \
           "boards/ep02/serve}}]\n" in result.output  # the example's boards: each its first frame


BLOCKED = """import sys
sys.modules[{library!r}] = None  # as if it were not installed
sys.argv = ["storyboard", *{args!r}]
from storyboard.cli import main
main()
"""


@pytest.mark.parametrize(("args", "library", "needs", "extra"), [
    (["export", "examples/coffee-shop", "-o", "{tmp}"], "opentimelineio", "storyboard export",
     "export"),
    (["export", "examples/coffee-shop", "--format", "jianying", "-o", "{tmp}"], "pyJianYingDraft",
     "storyboard export --format jianying|capcut", "jianying"),
    (["emulate", "--port", "0"], "starlette", "storyboard emulate", "emulator"),
    (["studio", "examples/coffee-shop"], "starlette", "storyboard studio", "studio"),
    (["mcp", "examples/coffee-shop"], "mcp", "storyboard mcp", "mcp"),
])
def test_a_missing_extra_is_one_message_and_exit_code_2(
        args: list[str], library: str, needs: str, extra: str, tmp_path: Path) -> None:
    """Each command in its own process, the library made unimportable before storyboard loads."""
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    done = subprocess.run([sys.executable, "-c", BLOCKED.format(library=library, args=args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    from storyboard import installed
    here = installed.current()
    hint = installed.add_extra(here, extra, installed.extra_requirements(installed.own_distribution(),
                                                                         extra))
    assert done.stderr == (f"error: {needs} needs the {extra} extra ({library} is not installed); "
                           f"storyboard is {here.describe()}; add the extra with: {hint}\n")


def test_the_docs_contact_sheet_is_what_sheet_png_draws_now(
        rendered_example: tuple[Path, Path], tmp_path: Path) -> None:
    """docs/sheet.png is `storyboard sheet examples/coffee-shop --png` after a render, byte for
    byte (the animatic's panels name their characters), and small."""
    from storyboard.review.sheet import build_sheet
    result = build_sheet(rendered_example[0], out=tmp_path / "sheet.html",
                         episodes_dir=rendered_example[1], png_out=True)
    assert result.png is not None
    committed = (ROOT / "docs" / "sheet.png").read_bytes()
    assert len(committed) < 300_000
    assert result.png.read_bytes() == committed


def test_the_cast_prices_table_is_written_in_the_page_as_declared() -> None:
    """Read in the repository (no MkDocs hook), docs/cast.md shows the prices table, and it is
    the one the declarations make; the hook puts the fresh one in its place."""
    from hooks.capability_table import on_page_markdown
    from storyboard.targets.cast.assets import assets_markdown
    text = (ROOT / "docs" / "cast.md").read_text("utf-8")
    start, end = "<!-- capability-table:assets -->", "<!-- /capability-table:assets -->"
    written = text[text.index(start) + len(start):text.index(end)]
    assert written.strip() == assets_markdown().strip()
    built = on_page_markdown(text, None, None, None)
    assert built.count(assets_markdown().strip()) == 1 and "capability-table" not in built


def test_getting_started_names_the_cache_folders_a_render_makes(tmp_path: Path) -> None:
    series = tmp_path / "s"
    assert CliRunner().invoke(cli, ["init", str(series)]).exit_code == 0
    assert CliRunner().invoke(cli, ["render", str(series), "--draft", "-q"]).exit_code == 0
    made = [p.name for p in (series / ".storyboard" / "cache").iterdir()]
    text = (ROOT / "docs" / "getting-started.md").read_text("utf-8")
    assert made and all(f"`{name}`" in text for name in made), made
    assert "`.storyboard/cache/<cache key>/<hash>.mp4`" in text


def _config_sample(text: str, home: str) -> list[str]:
    """``storyboard config``'s lines as docs/config.md shows them: the checkout as ``/path/to``,
    the home folder as ``~``, the ffmpeg binary by its source only (it is this machine's)."""
    text = text.replace(f"{ROOT}/", "/path/to/").replace(home, "~")
    return [re.sub(r"^(ffmpeg\s+)\S+", r"\1...", line) for line in text.splitlines()]


def test_the_config_sample_and_the_output_dir_default_are_todays(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """docs/config.md's sample is what ``storyboard config examples/coffee-shop --provider
    dashscope`` prints now, and its table says the same default for ``output_dir``."""
    for name in ("DASHSCOPE_API_KEY", "DASHSCOPE_HTTP_BASE_URL", "STORYBOARD_STATE_DIR",
                 "XDG_STATE_HOME", "STORYBOARD_LEDGER", "STORYBOARD_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no user settings file
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["config", "examples/coffee-shop", "--provider", "dashscope"])
    assert result.exit_code == 0, result.output
    page = (ROOT / "docs" / "config.md").read_text("utf-8")
    shown = page.split("$ storyboard config examples/coffee-shop --provider dashscope\n")[1]
    shown = shown.split("```")[0]
    assert _config_sample(shown, str(Path.home())) == _config_sample(result.stdout,
                                                                     str(Path.home()))
    [row] = [line for line in page.splitlines() if line.startswith("| `output_dir` |")]
    assert "`out/` inside the series folder" in row


def test_the_generated_cli_reference_keeps_each_commands_examples() -> None:
    """docs/cli.md as MkDocs converts it (mkdocs-click, with hooks/cli_examples.py around it)
    shows every example line of every command, and the commands get their own help back."""
    import html

    import markdown

    sys.path.insert(0, str(ROOT / "hooks"))
    try:
        import cli_examples
    finally:
        sys.path.remove(str(ROOT / "hooks"))
    from storyboard.cli.examples import EXAMPLES
    own = cli.commands["check"].help
    page = cli_examples.on_page_markdown((ROOT / "docs" / "cli.md").read_text("utf-8"), None,
                                         None, None)
    converted = markdown.markdown(page, extensions=["mkdocs-click", "fenced_code", "tables"])
    cli_examples.on_page_content(converted, None, None, None)
    text = html.unescape(re.sub(r"<[^>]+>", "", converted))
    for name, command in cli_examples.commands(cli):
        for line in () if command.hidden else EXAMPLES[name]:  # a hidden one is not listed
            assert f"$ {line}" in text, line
    assert cli.commands["check"].help == own
