"""Compiling faster changes nothing: every shot, hash and problem of a generated series is what
the compiler gave before (the lock's hashes are money: a changed one pays for the shot again)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyboard.language.cache import incremental
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from tests.fixtures.series_gen import digest_of, fingerprint, make_series

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "generated-series.json"
PROVIDERS = (None, "arrays", "roles")


def compiled(root: Path, provider: str | None) -> tuple[dict[str, str], str]:
    """Each shot's (and take's) hash, and the fingerprint of everything, from a cold check."""
    incremental.forget()
    manifest, problems = compile_lenient(load_source(root), provider=provider)
    hashes = {f"{take.episode}/{take.id}": take.hash for take in manifest.takes()}
    return hashes, digest_of(fingerprint(manifest, problems, root))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_series(tmp_path_factory.mktemp("gen") / "generated", episodes=4, shots=24)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_generated_series_compiles_to_the_known_good_hashes_and_problems(
        generated: Path, provider: str | None) -> None:
    golden = json.loads(GOLDEN.read_text())[str(provider)]
    hashes, whole = compiled(generated, provider)
    assert hashes == golden["hashes"]  # shot by shot first: the one that moved is named
    assert whole == golden["fingerprint"]


def write_golden() -> None:  # pragma: no cover - run by hand, only from a known-good commit
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        root = make_series(Path(tmp) / "generated", episodes=4, shots=24)
        table = {}
        for provider in PROVIDERS:
            hashes, whole = compiled(root, provider)
            table[str(provider)] = {"fingerprint": whole, "hashes": hashes}
    GOLDEN.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":  # pragma: no cover
    write_golden()
