"""docs/ray-cluster.yaml is a cluster file Ray's autoscaler accepts."""

from __future__ import annotations

from pathlib import Path

import yaml

DOC = Path(__file__).resolve().parents[2] / "docs" / "ray-cluster.yaml"


def test_the_documented_cluster_file_passes_rays_schema():
    from ray.autoscaler._private.util import fillout_defaults, validate_config
    config = yaml.safe_load(DOC.read_text())
    validate_config(fillout_defaults(config))  # as `ray up` does; raises naming the bad field
    assert config["provider"]["type"] == "local" and config["max_workers"] >= 1
    assert any("ray[default]" in command for command in config["setup_commands"])
