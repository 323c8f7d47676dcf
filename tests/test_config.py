from dataclasses import replace

import pytest

from rtmposelib import config, roadmap


def test_presets_consistent():
    for name, cfg in config.PRESETS.items():
        assert cfg.name == name
        assert cfg.model.input_size == cfg.codec.input_size


def test_separate_sigma_matches_official():
    assert config.simcc_sigma((192, 256)) == (4.9, 5.66)
    assert config.simcc_sigma((288, 384)) == (6.0, 6.93)


def test_recipe_per_size():
    assert config.preset("rtmpose-t").train.ema is False
    assert config.preset("rtmpose-t").train.weight_decay == 0.0
    assert config.preset("rtmpose-m").train.weight_decay == 0.05
    assert config.preset("rtmpose-t-wholebody").train.ema is True


def test_bad_values_raise():
    with pytest.raises(ValueError, match="head"):
        config.ModelConfig(head="bogus")
    with pytest.raises(ValueError, match="unknown preset"):
        config.preset("rtmpose-q")
    with pytest.raises(ValueError, match="input_size"):
        replace(config.preset("rtmpose-t"), codec=config.CodecConfig(input_size=(288, 384)))


def test_roadmap_chain_ends_at_official_config():
    final = roadmap.for_step("more_epochs")
    official = config.preset("rtmpose-m")
    assert final.model == official.model
    assert final.loss == official.loss
    assert final.codec == official.codec
    assert final.train.epochs == 420 and final.train.stage2_epochs == 30
    assert final.aug_stage1 == official.aug_stage1 and final.aug_stage2 == official.aug_stage2
    first = roadmap.for_step("baseline")
    assert first.model.final_kernel_size == 1 and first.model.hidden_dims is None and not first.model.use_gau
