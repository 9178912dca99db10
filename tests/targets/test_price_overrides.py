"""``provider.prices``: the default model's table, each model's own under its id, the rest kept."""

from __future__ import annotations

import pytest

from storyboard.errors import ProblemsFound, StoryboardError
from storyboard.providers.dashscope.provider import DashScopeSettings
from storyboard.run import apply_price_overrides
from storyboard.targets import PriceTable
from storyboard.targets.cast.assets import asset_models
from storyboard.targets.video.models import DASHSCOPE_PASSES, MODELS, WAN30_VIDEO
from storyboard.targets.wire.gateways import DASHSCOPE

LIST = DASHSCOPE.protocol.prices["intl"]


def test_top_level_rates_replace_wan27_r2v_and_keep_the_other_models() -> None:
    table = DashScopeSettings.from_mapping({"prices": {"720P": 0.08}}).price_table()
    assert dict(table.per_second) == {"720P": 0.08}
    for model in ("wan3.0-video", "wan3.0-video-prime", "wan2.7-i2v"):
        assert table.for_model(model) == MODELS[model].price("intl")
    assert table.for_model("wan2.7-r2v-2026-06-12") is table


def test_a_model_id_holds_that_models_own_rates() -> None:
    table = DashScopeSettings.from_mapping({"prices": {
        "720P": 0.1, "wan3.0-video": {"480P": 0.06, "1080P": 0.22}}}).price_table()
    own = table.for_model("wan3.0-video")
    assert dict(own.per_second) == {"480P": 0.06, "1080P": 0.22}  # replaces, as at the top
    assert own.input_video_cap == WAN30_VIDEO.price("intl").input_video_cap  # billing rule kept
    assert own.cost("720P", 10) == pytest.approx(2.2)  # a rate left out: the highest given
    assert table.for_model("wan3.0-video-prime") == MODELS["wan3.0-video-prime"].price("intl")
    assert dict(table.per_second) == {"720P": 0.1}


def test_a_snapshot_and_the_default_model_may_be_named() -> None:
    table = DashScopeSettings.from_mapping({"prices": {
        "wan2.7-r2v": {"720P": 0.07}}}).price_table()
    assert dict(table.per_second) == {"720P": 0.07}
    pinned = DashScopeSettings.from_mapping({"prices": {
        "wan2.7-r2v-2026-06-12": {"720P": 0.05}}}).price_table()
    assert pinned.for_model("wan2.7-r2v-2026-06-12").per_second == {"720P": 0.05}
    assert pinned.for_model("wan2.7-r2v") is pinned


def test_unknown_model_ids_are_an_error_listing_the_known_ones() -> None:
    with pytest.raises(ProblemsFound) as info:
        DashScopeSettings.from_mapping({"prices": {"wan9-video": {"720P": 1}}})
    text = info.value.format()
    assert "provider.prices.wan9-video: unknown model" in text
    for model in MODELS:
        assert model in text


def test_bad_rates_inside_a_model_name_the_key() -> None:
    with pytest.raises(ProblemsFound) as info:
        DashScopeSettings.from_mapping({"prices": {"wan3.0-video": {"480P": "cheap"}}})
    assert "provider.prices.wan3.0-video.480P:" in info.value.format()


def test_a_new_currency_needs_every_models_prices() -> None:
    with pytest.raises(ProblemsFound) as info:
        DashScopeSettings.from_mapping({"prices": {"720P": 0.1, "currency": "EUR"}})
    text = info.value.format()
    assert "provider.prices.currency:" in text and "wan3.0-video" in text
    whole = {"720P": 0.1, "currency": "EUR", **{m: {"720P": 0.2} for m in MODELS
                                                 if m != "wan2.7-r2v"},
             **{m: {"720P": 0.2} for m in DASHSCOPE_PASSES},  # the lip-sync pass, by second
             **{m: {"each": 0.2} for m in asset_models()}}
    table = DashScopeSettings.from_mapping({"prices": whole}).price_table()
    assert {table.for_model(m).currency
            for m in (*MODELS, *DASHSCOPE_PASSES, *asset_models())} == {"EUR"}


def test_run_overrides_keep_the_other_models_and_take_model_ids() -> None:
    table = apply_price_overrides(LIST, {"720P": 0.08})
    assert table.per_second == {"720P": 0.08, "1080P": 0.15}  # merged, as before
    assert table.by_model == LIST.by_model
    table = apply_price_overrides(LIST, {"wan3.0-video": {"480P": 0.06}})
    assert table.for_model("wan3.0-video").per_second == {"480P": 0.06, "720P": 0.10,
                                                          "1080P": 0.20}
    assert table.per_second == LIST.per_second
    with pytest.raises(StoryboardError, match=r"unknown model; known: wan2\.7-r2v"):
        apply_price_overrides(LIST, {"kling": {"720P": 1}})
    with pytest.raises(StoryboardError, match="per"):
        apply_price_overrides(LIST, {"per": "minute"})


def test_run_overrides_of_a_table_without_models() -> None:
    plain = PriceTable({"720P": 0.1})
    table = apply_price_overrides(plain, {"wan3.0-video": {"720P": 0.3}, "currency": "EUR"})
    assert table.currency == "EUR" and table.for_model("wan3.0-video").per_second["720P"] == 0.3
    assert table.for_model("wan3.0-video").currency == "EUR"
