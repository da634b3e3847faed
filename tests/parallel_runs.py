"""A finished ParallelRunStep run with a failed partition, for the tests of the views of its
partition table (the CLI's ``run partitions``, the studio's endpoint and page).

``partitioned_run(workspace, tmp_path)``: a tabular dataset of three stores partitioned by
``store``, trained one partition per mini batch by real worker processes on the local
target; store 2's ``run()`` raises ``ValueError: no sales for store 2``, so its row is Failed
with that traceback, the others Succeeded. ``error_threshold=-1`` lets the run complete.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

TRAIN = """\
    def init():
        pass

    def run(mini_batch, mini_batch_context):
        store = mini_batch_context.partition_key_value["store"]
        if store == "2":
            check_sales(store)
        return [f"{store} {len(mini_batch)}"]

    def check_sales(store):
        raise ValueError(f"no sales for store {store}")
    """


def partitioned_run(workspace, tmp_path: Path, experiment_name: str = "many-models"):
    import pandas as pd

    from runyard import Dataset, Datastore, Experiment
    from runyard.pipeline.steps import ParallelRunConfig, ParallelRunStep

    raw, src = tmp_path / "raw", tmp_path / "train-src"
    raw.mkdir()
    src.mkdir()
    pd.DataFrame({"store": [1, 2, 1, 3, 2, 1], "sales": [10, 20, 30, 40, 50, 60]}).to_csv(raw / "sales.csv",
                                                                                          index=False)
    (src / "train.py").write_text(textwrap.dedent(TRAIN))
    store = Datastore.register_local(workspace, "raw", str(raw))
    sales = Dataset.Tabular.from_delimited_files((store, "sales.csv"))
    partitioned = sales.partition_by(["store"], (store, "by-store"), name="sales_by_store")
    config = ParallelRunConfig(environment=None, entry_script="train.py", error_threshold=-1,
                               output_action="summary_only", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=2, partition_keys=["store"],
                               run_max_try=1)
    step = ParallelRunStep("train", config, inputs=[partitioned.as_named_input("sales")])
    run = Experiment(workspace, experiment_name).submit(step)
    run.wait_for_completion(timeout=180, raise_on_error=False)
    return run
