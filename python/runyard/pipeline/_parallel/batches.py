"""The mini batches of a ParallelRunStep's inputs, planned once by the coordinator.

A ``MiniBatch`` says what a worker hands to ``run()``: file paths (a file input), table
files to read as one DataFrame (a partition of a partitioned tabular dataset), or a
DataFrame (rows of a tabular dataset). A dataset delivered into the job's folder is read
there; one read where it is (``direct``, on this machine's folders) has each file's sha256
with it, and the worker refuses bytes that hash otherwise, as a dataset's own reads do. Its ``batch_id`` is stable for the same data and
settings (the partition's key values, or the input and the batch's number), so a later run
of the step can tell which mini batches an earlier one finished.

A worker on another machine (a Ray actor) cannot read the coordinator's files: ``packed``
gives it a copy of the mini batch that carries their bytes; the worker writes a file batch's
files into its own folder, at the same path relative to it as in the coordinator's job
folder, and reads a partition's table files from the bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from ...data import tabular
from ...errors import ConfigError
from ..parallel_run_config import bytes_per_batch, files_per_batch


@dataclasses.dataclass
class MiniBatch:
    index: int
    batch_id: str
    input: str
    kind: str  # "files" | "table_files" | "frame"
    partition: dict[str, Any] | None = None
    files: list[str] = dataclasses.field(default_factory=list)
    format: dict[str, Any] | None = None
    frame: Any = None
    #: files or rows; for table files, known once a worker has read them
    items: int | None = None
    #: each table file's sha256, when it is read where it is (not delivered into the job's folder)
    sha256: list[str | None] | None = None
    #: for a worker elsewhere: each file's (full path, path relative to the job folder, bytes)
    contents: list[tuple[str, str, bytes]] | None = None


def plan(settings: dict[str, Any], file_inputs: dict[str, list[str]], tables: dict[str, Any]) -> list[MiniBatch]:
    """Every mini batch: ``file_inputs`` maps an input to its files, ``tables`` an input to its
    delivered ``TabularDataset``."""
    batches: list[MiniBatch] = []
    for name, files in file_inputs.items():
        size = files_per_batch(settings["mini_batch_size"])
        for number, start in enumerate(range(0, len(files), size)):
            chunk = files[start:start + size]
            batches.append(MiniBatch(len(batches), f"{name}:{number}", name, "files", files=chunk, items=len(chunk)))
    for name, dataset in tables.items():
        if settings["partition_keys"]:
            batches += _partitions(name, dataset, settings["partition_keys"], len(batches))
        else:
            batches += _row_batches(name, dataset, bytes_per_batch(settings["mini_batch_size"]), len(batches))
    return batches


def dataset_files(dataset: Any) -> list[tuple[str, dict[str, Any]]]:
    """(full path, the file's entry) of each file of a dataset input: in the job's folder when
    it was delivered there, else where it is on this machine."""
    if dataset._delivered is not None:
        return [(str(dataset._delivered / item["path"]), item) for item in dataset._files]
    from ...data import sources as src
    return [(str(src.local_path(source, item["path"], dataset._workspace)), item)
            for source, item in src.iter_files(dataset._sources, dataset._files)]


def _partitions(name: str, dataset: Any, keys: list[str], first: int) -> list[MiniBatch]:
    groups: dict[tuple[Any, ...], MiniBatch] = {}
    direct = dataset._delivered is None
    for full, item in dataset_files(dataset):
        values = tabular.partition_values(dataset._format, full, repr(item["path"]))
        key = tuple(values[k] for k in keys)
        if key not in groups:
            partition = {k: values[k] for k in keys}
            shown = ",".join(f"{k}={v}" for k, v in partition.items())
            groups[key] = MiniBatch(first + len(groups), f"{name}:{shown}", name, "table_files", partition=partition,
                                    format=dataset._format, sha256=[] if direct else None)
        groups[key].files.append(full)
        if direct:
            groups[key].sha256.append(item.get("sha256"))
    return list(groups.values())


def _row_batches(name: str, dataset: Any, batch_bytes: int, first: int) -> list[MiniBatch]:
    """Rows in mini batches of about ``batch_bytes`` of the files' data each."""
    frame = dataset.to_pandas_dataframe()
    data_bytes = sum(int(item.get("size") or 0) for item in dataset._files) or 1
    rows = len(frame)
    per_batch = max(1, int(batch_bytes * rows / data_bytes)) if rows else 1
    return [MiniBatch(first + number, f"{name}:{number}", name, "frame", frame=frame.iloc[start:start + per_batch],
                      items=len(frame.iloc[start:start + per_batch]))
            for number, start in enumerate(range(0, rows, per_batch))]


def folder_files(folder: str) -> list[str]:
    """The files of an earlier step's output folder, in path order."""
    root = Path(folder)
    return [str(p) for p in sorted(root.rglob("*")) if p.is_file()] if root.is_dir() else \
        ([str(root)] if root.is_file() else [])


def packed(batch: MiniBatch) -> MiniBatch:
    """``batch`` with its files' bytes in it (a DataFrame's rows travel as they are)."""
    if batch.kind == "frame":
        return batch
    here = Path.cwd()
    contents = []
    for full in batch.files:
        path = Path(full)
        try:
            relative = path.relative_to(here).as_posix()
        except ValueError:  # not in the job folder: kept apart, under its full path
            relative = "_elsewhere/" + path.as_posix().lstrip("/")
        contents.append((full, relative, path.read_bytes()))
    return dataclasses.replace(batch, contents=contents)


def read_mini_batch(batch: MiniBatch, folder: str | None = None) -> Any:
    """What ``run()`` gets: the file paths, or a DataFrame. The files of a packed file batch are
    written below ``folder`` first."""
    if batch.kind == "files":
        if batch.contents is None:
            return list(batch.files)
        paths = []
        for _, relative, data in batch.contents:
            target = Path(folder or ".").absolute() / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            paths.append(str(target))
        return paths
    if batch.kind == "frame":
        return batch.frame.reset_index(drop=True)
    if batch.contents is not None:
        return tabular.read(batch.format, [(Path(full).name, full, repr(full), data)
                                           for full, _, data in batch.contents])
    files = []
    for number, full in enumerate(batch.files):
        data = Path(full).read_bytes()
        expected = batch.sha256[number] if batch.sha256 else None
        if expected is not None and hashlib.sha256(data).hexdigest() != expected:
            raise ConfigError(f"file {full!r} of input {batch.input!r} changed since the step was submitted (its "
                              f"bytes hash otherwise); a dataset's files must not change while it is in use")
        files.append((Path(full).name, full, repr(full), data))
    return tabular.read(batch.format, files)
