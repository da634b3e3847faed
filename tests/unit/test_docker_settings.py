"""The Docker target's settings: what is accepted, how it is kept, what the engine is asked for."""

from __future__ import annotations

import pytest

from runyard.compute.docker import DockerCompute, gpu_request
from runyard.errors import ConfigError


@pytest.mark.parametrize(("given", "kept"), [
    (2, 2), ("2", 2), (0, 0), ("all", "all"), ("0,1", "device=0,1"), ("device=0,1", "device=0,1"),
    ("device=3", "device=3"), ("GPU-3a1b2c3d-0000-1111", "device=GPU-3a1b2c3d-0000-1111")])
def test_gpus_are_a_count_all_or_devices(given, kept):
    assert DockerCompute(gpus=given).config["gpus"] == kept


@pytest.mark.parametrize("bad", ["lots", "-1", -1, "0,,1", "device=", "1.5", "two"])
def test_other_gpus_are_refused_naming_the_field(bad):
    with pytest.raises(ConfigError, match="gpus"):
        DockerCompute(gpus=bad)


def test_gpus_become_the_engines_device_request():
    assert gpu_request(2) == {"Driver": "", "Count": 2, "DeviceIDs": [], "Capabilities": [["gpu"]], "Options": {}}
    assert gpu_request("all")["Count"] == -1
    devices = gpu_request(DockerCompute(gpus="0,1").settings.gpus)
    assert (devices["DeviceIDs"], devices["Count"]) == (["0", "1"], 0)
