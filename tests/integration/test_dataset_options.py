"""Every option of ``Dataset.Tabular.from_delimited_files``, ``from_parquet_files`` and
``Dataset.File.from_files`` has an effect when the dataset is read, and a registered version
reads the same; an option runyard cannot honour is refused naming it."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from runyard import Dataset, OutputFileDatasetConfig
from runyard.data import DataType
from runyard.errors import ConfigError


def both(dataset, workspace, name):
    """The dataset's frame unregistered and as a registered version read back by name."""
    dataset.register(workspace, name)
    return dataset.to_pandas_dataframe(), Dataset.get_by_name(workspace, name).to_pandas_dataframe()


def test_infer_column_types_false_reads_text(workspace, project):
    folder = project({"t.csv": "n,f\n1,2.5\n2,3.0\n"})
    inferred = Dataset.Tabular.from_delimited_files(str(folder / "t.csv")).to_pandas_dataframe()
    assert inferred["n"].tolist() == [1, 2]
    for frame in both(Dataset.Tabular.from_delimited_files(str(folder / "t.csv"), infer_column_types=False),
                      workspace, "text"):
        assert frame["n"].tolist() == ["1", "2"] and frame["f"].tolist() == ["2.5", "3.0"]


def test_set_column_types(workspace, project):
    folder = project({"t.csv": "id,price,ok,day,code\n1,\"1,5\",yes,03/02/2024,007\n2,,no,,010\n"})
    types = {"id": DataType.to_long(), "price": DataType.to_float(decimal_mark=","),
             "ok": DataType.to_bool(true_values=["yes"], false_values=["no"]),
             "day": DataType.to_datetime("%d/%m/%Y"), "code": "string"}
    for frame in both(Dataset.Tabular.from_delimited_files(str(folder / "t.csv"), set_column_types=types),
                      workspace, "typed"):
        assert str(frame["id"].dtype) == "Int64" and frame["id"].tolist() == [1, 2]
        assert frame["price"].iloc[0] == 1.5 and pd.isna(frame["price"].iloc[1])
        assert frame["ok"].tolist() == [True, False]
        assert frame["day"].iloc[0] == pd.Timestamp(2024, 2, 3) and pd.isna(frame["day"].iloc[1])
        assert frame["code"].tolist() == ["007", "010"]  # as written, not the number 7


def test_set_column_types_errors_name_the_column_and_value(project):
    folder = project({"t.csv": "id,n\n1.5,x\n"})
    path = str(folder / "t.csv")
    with pytest.raises(ConfigError, match=r"column 'id' cannot be read as long: '1.5' is not a whole number"):
        Dataset.Tabular.from_delimited_files(path, set_column_types={"id": DataType.to_long()}).to_pandas_dataframe()
    with pytest.raises(ConfigError, match=r"column 'n' cannot be read as float: 'x' is not a number"):
        Dataset.Tabular.from_delimited_files(path, set_column_types={"n": "float"}).to_pandas_dataframe()
    with pytest.raises(ConfigError, match=r"set_column_types names column 'age', which it does not have "
                                          r"\(columns: id, n\)"):
        Dataset.Tabular.from_delimited_files(path, set_column_types={"age": "long"}).to_pandas_dataframe()
    with pytest.raises(ConfigError, match=r"set_column_types\['id'\] must be a DataType"):
        Dataset.Tabular.from_delimited_files(path, set_column_types={"id": int})


def test_partition_format_adds_columns_from_paths(workspace, project):
    folder = project({"Sales/2024/01/31/data.csv": "v\n1\n", "Ops/2023/12/01/data.csv": "v\n2\n"})
    ds = Dataset.Tabular.from_delimited_files(str(folder / "**" / "data.csv"),
                                              partition_format="/{Department}/{Day:yyyy/MM/dd}/data.csv")
    for frame in both(ds, workspace, "partitioned"):
        rows = sorted(frame.to_dict("records"), key=lambda r: r["v"])
        assert rows == [{"v": 1, "Department": "Sales", "Day": datetime(2024, 1, 31)},
                        {"v": 2, "Department": "Ops", "Day": datetime(2023, 12, 1)}]
    with pytest.raises(ConfigError, match=r"its path .* does not end as partition_format '/\{Day:yyyy\}/data.csv'"):
        Dataset.Tabular.from_delimited_files(str(folder / "**" / "data.csv"), partition_format="/{Day:yyyy}/data.csv")
    with pytest.raises(ConfigError, match="partition_format must be text naming at least one column"):
        Dataset.Tabular.from_delimited_files(str(folder / "**" / "data.csv"), partition_format="/data.csv")


def test_support_multi_line(workspace, project):
    folder = project({"t.csv": 'id,text\n1,"two\nlines"\n2,one\n'})
    path = str(folder / "t.csv")
    with pytest.raises(ConfigError, match=r"t.csv.*holds a quoted line break.*pass support_multi_line=True"):
        Dataset.Tabular.from_delimited_files(path)
    unchecked = Dataset.Tabular.from_delimited_files(path, validate=False)
    with pytest.raises(ConfigError, match=r"column 'text', row 1 holds a quoted line break"):
        unchecked.to_pandas_dataframe()
    for frame in both(Dataset.Tabular.from_delimited_files(path, support_multi_line=True), workspace, "lines"):
        assert frame["text"].tolist() == ["two\nlines", "one"]


def test_empty_as_string(workspace, project):
    folder = project({"t.csv": "name,n\n,1\nb,\n"})
    path = str(folder / "t.csv")
    plain = Dataset.Tabular.from_delimited_files(path).to_pandas_dataframe()
    assert pd.isna(plain["name"].iloc[0])
    for frame in both(Dataset.Tabular.from_delimited_files(path, empty_as_string=True), workspace, "empties"):
        assert frame["name"].tolist() == ["", "b"]
        assert frame["n"].iloc[0] == 1 and pd.isna(frame["n"].iloc[1])  # numbers stay numbers, empties null


def test_azure_encoding_names(project):
    folder = project({"t.csv": "a\n\u00e9\n".encode("cp1252"), "bom.csv": "\ufeffa\nx\n".encode("utf-8")})
    assert Dataset.Tabular.from_delimited_files(str(folder / "t.csv"), encoding="windows1252") \
        .to_pandas_dataframe()["a"].tolist() == ["\u00e9"]
    assert Dataset.Tabular.from_delimited_files(str(folder / "bom.csv"), encoding="utf8bom") \
        .to_pandas_dataframe().columns.tolist() == ["a"]
    with pytest.raises(ConfigError, match="unknown encoding 'klingon'"):
        Dataset.Tabular.from_delimited_files(str(folder / "t.csv"), encoding="klingon")


def test_parquet_options(workspace, project):
    folder = project({}, name="pq")
    (folder / "east").mkdir()
    pd.DataFrame({"k": ["1", "2"], "v": [0.5, 1.5]}).to_parquet(folder / "east" / "part.parquet")
    ds = Dataset.Tabular.from_parquet_files(str(folder / "*" / "part.parquet"), partition_format="{Region}/part.parquet",
                                            set_column_types={"k": DataType.to_long()})
    for frame in both(ds, workspace, "pq"):
        assert frame["k"].tolist() == [1, 2] and frame["Region"].tolist() == ["east", "east"]


def test_file_dataset_options(project):
    folder = project({"a/x.bin": "x", "y.bin": "y"})
    assert Dataset.File.from_files(str(folder / "y.bin"), is_file=True).to_path() == ["/y.bin"]
    with pytest.raises(ConfigError, match=r"is_file=True, but path .* is a folder"):
        Dataset.File.from_files(str(folder / "a"), is_file=True)
    with pytest.raises(ConfigError, match=r"from_files: partition_format='\{a\}/x.bin' is not supported; partition "
                                          r"columns belong to tabular datasets"):
        Dataset.File.from_files(str(folder), partition_format="{a}/x.bin")


def test_default_options_are_not_stored_so_versions_stay_keyed_by_content(workspace, project):
    folder = project({"p.csv": "id\n1\n"})
    ds = Dataset.Tabular.from_delimited_files(str(folder / "p.csv"))
    assert ds._format == {"kind": "delimited", "separator": ",", "header": True, "encoding": "utf8",
                          "include_path": False, "support_multi_line": False}
    first = ds.register(workspace, "plain")
    again = Dataset.Tabular.from_delimited_files(str(folder / "p.csv"), infer_column_types=True, empty_as_string=False)
    assert again.register(workspace, "plain").id == first.id
    other = Dataset.Tabular.from_delimited_files(str(folder / "p.csv"), infer_column_types=False)
    assert other._format["infer_column_types"] is False
    assert other.register(workspace, "plain", create_new_version=True).version == 2


def test_a_dataset_registered_before_the_options_existed_reads_as_it_did(workspace, project):
    folder = project({"t.csv": 'id,text\n1,"two\nlines"\n'})
    legacy = {"kind": "delimited", "separator": ",", "header": True, "encoding": "utf8", "include_path": False}
    ds = Dataset.Tabular.from_delimited_files(str(folder / "t.csv"), support_multi_line=True)
    ds._format = dict(legacy)
    ds.register(workspace, "old")
    assert Dataset.get_by_name(workspace, "old").to_pandas_dataframe()["text"].tolist() == ["two\nlines"]
    # the same files registered again with today's default find such a version
    plain = project({"p.csv": "id\n1\n"})
    ds = Dataset.Tabular.from_delimited_files(str(plain / "p.csv"))
    ds._format = dict(legacy)
    first = ds.register(workspace, "plain")
    assert Dataset.Tabular.from_delimited_files(str(plain / "p.csv")).register(workspace, "plain").id == first.id


def test_step_output_formats_take_the_same_options(project):
    out = OutputFileDatasetConfig("prepared").read_delimited_files(
        separator=";", set_column_types={"id": "long"}, partition_format="{Day:yyyy-MM-dd}.csv",
        support_multi_line=True, encoding="windows1252")
    assert out._format["encoding"] == "cp1252"
    assert out._format["set_column_types"] == {"id": {"type": "long"}}
    assert out._format["partition_format"] == "{Day:yyyy-MM-dd}.csv" and out._format["support_multi_line"]
    assert OutputFileDatasetConfig("p").read_parquet_files(set_column_types={"k": "string"}) \
        ._format["set_column_types"] == {"k": {"type": "string"}}
    with pytest.raises(ConfigError, match=r"read_delimited_files: path_glob='\*.csv' is not supported; the dataset "
                                          r"registered is every file"):
        OutputFileDatasetConfig("o").read_delimited_files(path_glob="*.csv")
    with pytest.raises(TypeError):
        OutputFileDatasetConfig("o").read_delimited_files(colour="red")


def test_show_progress_prints_what_was_copied(workspace, project, tmp_path, capsys):
    store = workspace.get_default_datastore()
    folder = project({"a.txt": "a", "sub/b.txt": "b"})
    store.upload(str(folder), target_path="up")
    assert "Uploaded 2 file(s) to datastore 'workspaceblobstore' at 'up'" in capsys.readouterr().out
    store.upload(str(folder), target_path="up", show_progress=False)
    assert capsys.readouterr().out == ""
    store.upload_files([str(folder / "a.txt")], relative_root=str(folder), target_path="up")
    assert "Uploaded 0 file(s) to datastore 'workspaceblobstore' at 'up', kept 1 already there" in \
        capsys.readouterr().out
    assert store.download(str(tmp_path / "down"), prefix="up") == 2
    assert "Downloaded 2 file(s) from datastore 'workspaceblobstore'" in capsys.readouterr().out
    Dataset.File.upload_directory(str(folder), (store, "dir"), show_progress=False)
    Dataset.Tabular.register_pandas_dataframe(pd.DataFrame({"n": [1]}), store, "frame", show_progress=False)
    assert capsys.readouterr().out == ""
