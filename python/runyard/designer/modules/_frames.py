"""What every designer module shares: reading and writing its ports' folders.

A ``dataframe`` port is a folder holding ``data.parquet``; a ``model`` port a folder holding
``model.pkl`` (the fitted scikit-learn pipeline) and ``model.json`` (what it was trained on).
Modules are copied next to the pipeline's YAML (``modules/``), so a saved designer pipeline runs
with ``runyard pipeline submit -f`` wherever the folder is.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

FRAME_FILE = "data.parquet"
#: Score Model's note beside its table: the label column and the task, for Evaluate Model
SCORING_FILE = "scoring.json"


def read_frame(folder: str | None):
    """The table of a ``dataframe`` port (None for a port left unconnected)."""
    import pandas as pd
    if not folder:
        return None
    path = Path(folder) / FRAME_FILE
    if not path.is_file():
        raise SystemExit(f"{folder}: no {FRAME_FILE}; a dataframe port is connected to another port type?")
    return pd.read_parquet(path)


def write_frame(frame, folder: str) -> None:
    import pandas as pd
    if not isinstance(frame, pd.DataFrame):
        raise SystemExit(f"expected a data frame to write, got {type(frame).__name__}")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]  # Parquet column names are text
    Path(folder).mkdir(parents=True, exist_ok=True)
    frame.to_parquet(Path(folder) / FRAME_FILE, index=False)
    print(f"wrote {len(frame)} rows x {len(frame.columns)} columns to {folder}")


def columns(text: str | None, frame, what: str = "columns") -> list[str]:
    """Comma-separated column names, each checked against the table (none: every column)."""
    names = [c.strip() for c in (text or "").split(",") if c.strip()]
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise SystemExit(f"{what}: no column {missing[0]!r}; the table's columns: {', '.join(map(str, frame.columns))}")
    return names or list(frame.columns)


def script_arguments():
    """The Execute Python/R Script modules' arguments: the script, two optional input tables
    and two output tables."""
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--script", required=True)
    parser.add_argument("--dataframe1", default=None)
    parser.add_argument("--dataframe2", default=None)
    parser.add_argument("--result1", required=True)
    parser.add_argument("--result2", required=True)
    return parser.parse_args()


def write_model(model: Any, meta: dict[str, Any], folder: str) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)
    with open(Path(folder) / "model.pkl", "wb") as out:
        pickle.dump(model, out, protocol=pickle.HIGHEST_PROTOCOL)
    (Path(folder) / "model.json").write_text(json.dumps(meta, indent=1))


def read_model(folder: str) -> tuple[Any, dict[str, Any]]:
    path = Path(folder)
    if not (path / "model.json").is_file():
        raise SystemExit(f"{folder}: no model.json; connect a Train Model's output to this port")
    with open(path / "model.pkl", "rb") as fh:
        return pickle.load(fh), json.loads((path / "model.json").read_text())
