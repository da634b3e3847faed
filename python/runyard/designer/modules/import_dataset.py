"""Dataset: a registered dataset's version as a table (a tabular dataset parsed as registered;
a file dataset's CSV, Parquet or JSON-lines files read one after another)."""

import argparse
from pathlib import Path

import pandas as pd

from _frames import write_frame

parser = argparse.ArgumentParser()
parser.add_argument("--dataset", required=True, help="the folder of the registered dataset's files")
parser.add_argument("--output", required=True)
args = parser.parse_args()

from runyard import Run  # noqa: E402

found = Run.get_context().input_datasets.get("dataset")
if found is not None and hasattr(found, "to_pandas_dataframe"):
    frame = found.to_pandas_dataframe()
else:
    readers = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".jsonl": lambda p: pd.read_json(p, lines=True)}
    files = sorted(p for p in Path(args.dataset).rglob("*") if p.suffix.lower() in readers)
    if not files:
        raise SystemExit(f"the dataset holds no .csv, .parquet or .jsonl file ({args.dataset})")
    frame = pd.concat([readers[p.suffix.lower()](p) for p in files], ignore_index=True)
write_frame(frame, args.output)
