"""RunConfig <-> JSON round trip (rtmposelib.config_io) and ``rtmpose train --config``."""
import argparse
import dataclasses
import json

import pytest

from rtmposelib.config import PRESETS, RunConfig
from rtmposelib.config_io import config_from_dict, config_to_dict, load_config, save_config
from rtmposelib.roadmap import STEP_NAMES, for_step
from rtmposelib.train.command import add_arguments, config_from_args


@pytest.mark.parametrize("cfg", [*PRESETS.values(), *(for_step(s) for s in STEP_NAMES)],
                         ids=[*PRESETS, *STEP_NAMES])
def test_round_trip_through_json_equals_the_config(cfg, tmp_path):
    path = save_config(cfg, tmp_path / "run.json")
    back = load_config(path)
    assert back == cfg
    assert isinstance(back.model.input_size, tuple) and isinstance(back.aug_stage1.scale_factor, tuple)
    assert json.loads(path.read_text()) == json.loads(json.dumps(dataclasses.asdict(cfg)))


def test_missing_keys_take_defaults_and_unknown_keys_are_named():
    assert config_from_dict({"name": "x"}) == RunConfig(name="x")
    values = config_to_dict(RunConfig())
    values["train"]["epoch"] = 3                              # a typo of "epochs"
    with pytest.raises(ValueError, match=r"config\.train: unknown key\(s\) \['epoch'\]"):
        config_from_dict(values)
    values = config_to_dict(RunConfig())
    values["model"]["head"] = "nope"
    with pytest.raises(ValueError, match=r"config\.model: invalid ModelConfig: head must be"):
        config_from_dict(values)


def test_load_config_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.json does not exist"):
        load_config(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json is not valid JSON"):
        load_config(bad)


def test_train_command_reads_config_and_refuses_clashing_options(tmp_path):
    cfg = for_step("kernel7")
    path = save_config(cfg, tmp_path / "run.json")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from_args(parser.parse_args(["--out", "x", "--config", str(path)])) == cfg
    with pytest.raises(ValueError, match="drop --epochs, --seed"):
        config_from_args(parser.parse_args(["--out", "x", "--config", str(path), "--epochs", "3", "--seed", "1"]))
