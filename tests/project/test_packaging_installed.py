"""How storyboard was installed (storyboard/installed.py), read from real environments made here:
pipx's, uv tool's, uv's, a venv with pip, a clone installed editable; the missing-extra hint gives
the command that works for each; `storyboard doctor` finds the unrelated `storyboard` distribution
sharing the package."""

from __future__ import annotations

import json
import subprocess
import venv
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard import installed
from storyboard.cli.setup.doctor import doctor

REQUIRES = ["rich>=13", "starlette>=1.3.1; extra == 'studio'", "uvicorn>=0.29; extra == 'studio'",
            "fsspec>=2024.2; extra == 'store'", "s3fs>=2024.2; extra == 'store-s3'",
            "storyboard-compiler[store]; extra == 'store-s3'"]


def make_venv(where: Path, *, pip: bool = False) -> Path:
    venv.EnvBuilder(with_pip=pip, symlinks=True).create(where)
    return where


def site_packages(prefix: Path) -> Path:
    return next(prefix.glob("lib/python*/site-packages"))


def fake_distribution(site: Path, name: str, version: str, *, direct_url: dict[str, object] | None = None,
                      files: tuple[str, ...] = ()) -> metadata.Distribution:
    """A distribution's dist-info as an installer writes it: METADATA, RECORD, maybe direct_url."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = [f"Metadata-Version: 2.3\nName: {name}\nVersion: {version}\n",
             *(f"Requires-Dist: {r}\n" for r in REQUIRES)]
    (info / "METADATA").write_text("".join(lines), "utf-8")
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in files), "utf-8")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url), "utf-8")
    return metadata.PathDistribution(info)


def own(prefix: Path, direct_url: dict[str, object] | None = None) -> metadata.Distribution:
    return fake_distribution(site_packages(prefix), "storyboard-compiler", "0.1.0", direct_url=direct_url)


def hint(prefix: Path, dist: metadata.Distribution, extra: str = "studio") -> str:
    found = installed.detect(prefix, str(prefix / "bin" / "python"), dist)
    return installed.add_extra(found, extra, installed.extra_requirements(dist, extra))


def test_a_pipx_environment_gets_the_extras_requirements_injected(tmp_path: Path) -> None:
    prefix = make_venv(tmp_path / "pipx" / "venvs" / "storyboard-compiler")
    (prefix / "pipx_metadata.json").write_text(json.dumps(
        {"main_package": {"package": "storyboard-compiler", "package_or_url": "/src/clone"},
         "pipx_metadata_version": "0.12"}), "utf-8")
    dist = own(prefix, {"url": "file:///src/clone", "dir_info": {}})
    assert hint(prefix, dist) == "pipx inject storyboard-compiler 'starlette>=1.3.1' 'uvicorn>=0.29'"
    # an extra naming another of its extras brings that one's requirements too
    assert hint(prefix, dist, "store-s3") == ("pipx inject storyboard-compiler 'fsspec>=2024.2' "
                                              "'s3fs>=2024.2'")


def test_a_uv_tool_is_installed_again_from_its_source_with_the_extras_it_had(tmp_path: Path) -> None:
    prefix = make_venv(tmp_path / "tools" / "storyboard-compiler")
    (prefix / "uv-receipt.toml").write_text(
        '[tool]\nrequirements = [\n    { name = "storyboard-compiler", extras = ["export"], '
        'editable = "/src/my clone" },\n    { name = "rich" },\n]\n', "utf-8")
    dist = own(prefix, {"url": "file:///src/my%20clone", "dir_info": {"editable": True}})
    assert hint(prefix, dist) == ("uv tool install --force -e '/src/my clone[export,studio]' "
                                  "--with rich")


def test_a_uv_tool_from_the_index_is_reinstalled_by_name(tmp_path: Path) -> None:
    prefix = make_venv(tmp_path / "tools" / "storyboard-compiler")
    (prefix / "uv-receipt.toml").write_text(
        '[tool]\nrequirements = [{ name = "storyboard-compiler" }]\n', "utf-8")
    assert hint(prefix, own(prefix)) == "uv tool install --force 'storyboard-compiler[studio]'"


def test_a_venv_made_by_uv_without_pip_uses_uv_pip(tmp_path: Path) -> None:
    prefix = make_venv(tmp_path / "venv")
    config = prefix / "pyvenv.cfg"
    config.write_text(config.read_text("utf-8") + "uv = 0.13.9\n", "utf-8")
    dist = own(prefix, {"url": "file:///src/clone", "dir_info": {"editable": True}})
    assert hint(prefix, dist) == f"uv pip install --python {prefix}/bin/python -e '/src/clone[studio]'"


def test_a_venv_with_pip_uses_its_own_interpreters_pip(tmp_path: Path) -> None:
    prefix = make_venv(tmp_path / "venv", pip=True)
    config = prefix / "pyvenv.cfg"  # made by uv, but it has pip: pip is the one to use
    config.write_text(config.read_text("utf-8") + "uv = 0.13.9\n", "utf-8")
    python = prefix / "bin" / "python"
    assert hint(prefix, own(prefix)) == f"{python} -m pip install 'storyboard-compiler[studio]'"
    wheel = {"url": "file:///tmp/w/storyboard_compiler-0.1.0-py3-none-any.whl", "archive_info": {}}
    (site_packages(prefix) / "storyboard_compiler-0.1.0.dist-info" / "direct_url.json").write_text(
        json.dumps(wheel), "utf-8")
    dist = metadata.PathDistribution(site_packages(prefix) / "storyboard_compiler-0.1.0.dist-info")
    assert hint(prefix, dist) == (f"{python} -m pip install "
                                  "'/tmp/w/storyboard_compiler-0.1.0-py3-none-any.whl[studio]'")


def test_the_detection_runs_in_the_environments_own_interpreter(tmp_path: Path) -> None:
    """The real thing end to end: the environment's python, its sys.prefix and its own metadata."""
    prefix = make_venv(tmp_path / "pipx" / "venvs" / "storyboard-compiler")
    (prefix / "pipx_metadata.json").write_text("{}", "utf-8")
    own(prefix, {"url": "file:///src/clone", "dir_info": {"editable": True}})
    script = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('i', sys.argv[1]);"
              " m = importlib.util.module_from_spec(spec); sys.modules['i'] = m;"
              " spec.loader.exec_module(m); d = m.own_distribution();"
              " print(m.current().describe()); print(m.add_extra(m.current(), 'studio',"
              " m.extra_requirements(d, 'studio')))")
    said = subprocess.run([prefix / "bin" / "python", "-I", "-c", script, installed.__file__],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    assert said == [f"installed with pipx into {prefix} from /src/clone (editable)",
                    "pipx inject storyboard-compiler 'starlette>=1.3.1' 'uvicorn>=0.29'"]


def test_the_missing_extra_hint_names_the_installation_and_its_command() -> None:
    from storyboard.errors import MissingExtra
    here = installed.current()
    message = str(MissingExtra("storyboard studio", "studio", "starlette"))
    assert message.startswith("storyboard studio needs the studio extra (starlette is not installed); "
                              f"storyboard is {here.describe()}; add the extra with: ")
    assert "No module named" not in message and "pipx install --force" not in message


def test_doctor_finds_the_unrelated_storyboard_distribution_in_the_same_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    fake_distribution(site, "storyboard", "0.1.9", files=("storyboard/__init__.py", "../../bin/storyboard"))
    before = CliRunner().invoke(doctor, [])
    assert "storyboard 0.1.9" not in before.output
    monkeypatch.syspath_prepend(str(site))
    result = CliRunner().invoke(doctor, [])
    assert result.exit_code == 1, result.output
    assert ("clash:   the distribution storyboard 0.1.9 (an unrelated project) also installs the "
            "`storyboard` package and command here") in result.output
    assert "-m pip uninstall -y storyboard" in result.output
    report = json.loads(CliRunner().invoke(doctor, ["--json"]).output)
    assert report["clashes"] == [{"distribution": "storyboard", "version": "0.1.9"}]


def test_the_commands_that_undo_a_clash_fit_each_installation(tmp_path: Path) -> None:
    prefix = make_venv(tmp_path / "venv")
    python = prefix / "bin" / "python"
    clone = installed.detect(prefix, str(python), own(prefix, {"url": "file:///home/me/storyboard",
                                                                "dir_info": {"editable": True}}))
    assert installed.remove_other(clone, "storyboard") == [
        f"{python} -m pip uninstall -y storyboard",
        f"{python} -m pip install --force-reinstall --no-deps -e /home/me/storyboard"]
    pipx = make_venv(tmp_path / "pipx" / "venvs" / "storyboard-compiler")
    (pipx / "pipx_metadata.json").write_text("{}", "utf-8")
    assert installed.remove_other(installed.detect(pipx, "python", own(pipx)), "storyboard") == [
        "pipx runpip storyboard-compiler uninstall -y storyboard", "pipx reinstall storyboard-compiler"]
    tool = make_venv(tmp_path / "tools" / "storyboard-compiler")
    (tool / "uv-receipt.toml").write_text(
        '[tool]\nrequirements = [{ name = "storyboard-compiler", directory = "/src/sb" }]\n', "utf-8")
    assert installed.remove_other(installed.detect(tool, "python", own(tool)), "storyboard") == [
        "uv tool install --force --reinstall /src/sb"]


def test_the_doctor_page_shows_what_doctor_says_for_a_clone() -> None:
    from tests.fixtures.paths import ROOT
    here = installed.Installation("pip", Path("/home/me/storyboard/.venv"),
                                  "/home/me/storyboard/.venv/bin/python",
                                  installed.Source("/home/me/storyboard", editable=True, is_path=True))
    from storyboard.cli.setup import doctor as command
    lines = command.clash_lines([("storyboard", "0.1.9")], here)
    assert "\n".join(lines) in (ROOT / "docs" / "ffmpeg.md").read_text("utf-8")
