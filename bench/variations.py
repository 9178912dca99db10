"""Benchmark: expand + compile 1,000 variations of a 5-shot ad, in variations per second.

    taskset -c 0 python bench/variations.py [--products 10] [--langs 10] [--ratios 5] [--tiers 2]

The ad uses Jinja values, a matrix (products x languages x ratios x resolutions) and shot
templates; a hook shot depends on the ratio and resolution only, so it is shared. Printed: the
variations per second (target: at least 500 on one core, best of three), how many distinct shots
remain after sharing, and the ratio against a baseline measured in the same run: compiling one
plain (untemplated) 5-shot variation as many times, which is what the matrix costs without
expansion. Times are CPU time of this process (``time.process_time``), so a busy machine
does not distort them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from storyboard.language.compile import Compiler
from storyboard.language.read.series import load_source
from storyboard.language.variations import SharedMediaCache, compile_variations
from storyboard.media import samples

TARGET = 500.0
RATIOS = ["9:16", "16:9", "1:1", "4:3", "3:4"]
TIERS = ["720P", "1080P"]


def make_ad(root: Path, products: int, langs: int, ratios: int, tiers: int) -> None:
    m = root / "media"
    for p in range(products):
        samples.image(m / f"p{p}.png", 256, 256, color=f"0x{(p * 40) % 256:02x}4060")
    samples.image(m / "cup.png", 256, 256, color="firebrick")
    samples.image(m / "host.png", 256, 320, pattern="smptebars")
    samples.voice(m / "host.wav", seconds=2.0)
    names = ", ".join(f"p{p}" for p in range(products))
    codes = ", ".join(f"l{n}" for n in range(langs))
    quotes = "".join(f"    l{n}: \"Line {n} about {{{{ product }}}}.\"\n" for n in range(langs))
    cast = "".join(f"  p{p}: {{image: media/p{p}.png}}\n" for p in range(products))
    (root / "storyboard.yaml").write_text(
        "storyboard: 1\ntitle: \"Ad {{ product }} {{ lang }}\"\n"
        "defaults: {duration: 5, seed: 7}\n"
        f"vars:\n  quote:\n{quotes}"
        "variations:\n  matrix:\n"
        f"    product: [{names}]\n    lang: [{codes}]\n"
        f"    ratio: {RATIOS[:ratios]!r}\n    resolution: {TIERS[:tiers]!r}\n"
        "  name: \"{{ product }}-{{ lang }}-{{ ratio | replace(':', 'x') }}-{{ resolution }}\"\n"
        "voices:\n  host-voice: {audio: media/host.wav}\n"
        f"characters:\n  cup: {{image: media/cup.png}}\n"
        f"  host: {{image: media/host.png, voice: host-voice}}\n{cast}"
        "episodes:\n  - episodes/ad.yaml\n", encoding="utf-8")
    (root / "episodes").mkdir()
    (root / "episodes" / "ad.yaml").write_text(
        "id: ad\ntitle: \"{{ product }}\"\nend_card: {text: \"Buy {{ product }} ({{ lang }})\"}\n"
        "shots:\n"
        "  - use: hook\n    with: {subject: cup}\n"
        "  - use: product-hero\n    with: {product: \"{{ product }}\"}\n"
        "  - use: testimonial\n"
        "    with: {speaker: host, product: \"{{ product }}\", quote: \"{{ quote[lang] }}\"}\n"
        "  - id: detail\n    prompt: \"@{{ product }} in the hand of @host, {{ lang }} caption\"\n"
        "  - use: cta\n    with: {product: \"{{ product }}\", offer: \"{{ lang }} offer\"}\n",
        encoding="utf-8")


def best(seconds: list[float]) -> float:
    return min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=10)
    parser.add_argument("--langs", type=int, default=10)
    parser.add_argument("--ratios", type=int, default=5, choices=range(1, 6))
    parser.add_argument("--tiers", type=int, default=2, choices=(1, 2))
    args = parser.parse_args()
    count = args.products * args.langs * args.ratios * args.tiers
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ad"
        root.mkdir()
        make_ad(root, args.products, args.langs, args.ratios, args.tiers)
        first = compile_variations(root)  # media facts measured and cached, YAML parse cached
        assert first.ok, first.diagnostics()[:3]
        timings = []
        for _ in range(3):
            started = time.process_time()
            variants = compile_variations(root)
            timings.append(time.process_time() - started)
        shots = variants.shots()
        distinct = len({s.hash for s in shots})
        plain = variants.variants[0]
        baseline = []
        source = load_source(root)
        cache = SharedMediaCache(root / ".storyboard" / "media.json")
        from storyboard.language.expansion.expand import expand
        one = expand(source, select=[str(plain.name)]).variations[0].source
        for _ in range(3):
            started = time.process_time()
            for _ in range(count):
                Compiler(one, media_cache=cache).run()
            baseline.append(time.process_time() - started)
    rate = count / best(timings)
    print(f"variations: {count} of a 5-shot ad ({len(shots)} shots)")
    print(f"expand + compile: {best(timings):.3f} s, {rate:,.0f} variations/s "
          f"(target >= {TARGET:,.0f}/s): {'ok' if rate >= TARGET else 'BELOW TARGET'}")
    print(f"distinct shots after sharing: {distinct} of {len(shots)}")
    print(f"baseline, compiling one plain variation {count} times: {best(baseline):.3f} s; "
          f"ratio {best(timings) / best(baseline):.2f}x")


if __name__ == "__main__":
    main()
