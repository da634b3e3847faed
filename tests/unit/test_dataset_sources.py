"""Where a dataset's files are: paths split at their first glob, sources on this machine, the
content hash (the rule of a pipeline step's output hash), versions and tabular checks."""

from __future__ import annotations

import io

import pytest

from runyard.data import sources as src
from runyard.data import tabular
from runyard.data.dataset import _version
from runyard.errors import ConfigError


@pytest.mark.parametrize("path, expected", [
    ("data/2024/*.csv", ("data/2024", "*.csv")),
    ("data/**/x?.csv", ("data", "**/x?.csv")),
    ("/abs/[ab].csv", ("/abs", "[ab].csv")),
    ("*.csv", ("", "*.csv")),
    ("/*.csv", ("/", "*.csv")),
    ("data/plain", ("data/plain", None)),
])
def test_split_glob(path, expected):
    assert src.split_glob(path) == expected


def test_local_sources_and_listing(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/a.csv", "d/sub/b.csv", "d/sub/c.txt"):
        (tmp_path / name).write_text(name)
    folder = src.local_source(tmp_path / "d")
    assert (folder["base"], folder["pattern"]) == (str(tmp_path / "d"), None)
    assert src.list_files(folder) == ["a.csv", "sub/b.csv", "sub/c.txt"]
    one = src.local_source(tmp_path / "d" / "a.csv")
    assert (one["base"], one["pattern"], src.list_files(one)) == (str(tmp_path / "d"), "a.csv", ["a.csv"])
    assert src.list_files(src.local_source(f"{tmp_path}/d/**/*.csv")) == ["a.csv", "sub/b.csv"]
    with pytest.raises(ConfigError, match="matches no files"):
        src.resolve([src.local_source(tmp_path / "d" / "*.json")], hashes=False)
    with pytest.raises(ConfigError, match="two files would be at 'a.csv'"):
        src.resolve([folder, one], hashes=False)


def test_content_hash_is_the_rule_of_step_outputs(tmp_path):
    files = [{"path": "b.csv", "sha256": "00" * 32}, {"path": "a.csv", "sha256": "11" * 32}]
    assert src.content_hash(files) == src.content_hash(list(reversed(files)))
    renamed = [{"path": "c.csv", "sha256": "00" * 32}, files[1]]
    assert src.content_hash(renamed) != src.content_hash(files)

    class Artifacts:  # what reuse.output_hash reads: a run's files
        def list(self, run_id):
            return ["outputs/o/a.csv", "outputs/o/b.csv"]

        def path(self, run_id, name):
            return tmp_path / name.rsplit("/", 1)[1]

    class Workspace:
        _artifacts = Artifacts()

    (tmp_path / "a.csv").write_text("a")
    (tmp_path / "b.csv").write_text("b")
    from runyard.pipeline import reuse
    resolved = src.resolve([src.local_source(tmp_path / "*.csv")], hashes=True)
    assert src.content_hash(resolved) == reuse.output_hash(Workspace(), "run", "o")


@pytest.mark.parametrize("value, expected", [("latest", None), (None, None), (3, 3), ("2", 2)])
def test_versions(value, expected):
    assert _version(value) == expected


@pytest.mark.parametrize("value", ["two", 0, -1, 1.5, True, "1.0"])
def test_bad_versions(value):
    with pytest.raises(ConfigError, match="'latest' or a whole number"):
        _version(value)


def test_delimited_checks_name_the_file_and_line():
    fmt = tabular.delimited_format(",", True, "utf8", False)
    ok = [("/d/a.csv", "'a.csv'", lambda: io.BytesIO(b"x,y\n1,2\n")),
          ("/d/b.csv", "'b.csv'", lambda: io.BytesIO(b"x,y\n3,4"))]
    tabular.check(fmt, ok)
    with pytest.raises(ConfigError, match="'c.csv', line 2: 3 fields where the header has 2"):
        tabular.check(fmt, [("/d/c.csv", "'c.csv'", lambda: io.BytesIO(b"x,y\n1,2,3\n"))])
    with pytest.raises(ConfigError, match="'e.csv' is empty"):
        tabular.check(fmt, [("/d/e.csv", "'e.csv'", lambda: io.BytesIO(b""))])
    with pytest.raises(ConfigError, match="separator must be one character"):
        tabular.delimited_format(";;", True, "utf8", False)
    with pytest.raises(ConfigError, match="not a Parquet file"):
        tabular.check(tabular.parquet_format(False), [("/d/p", "'p'", lambda: io.BytesIO(b"PAR1xxxx"))])
