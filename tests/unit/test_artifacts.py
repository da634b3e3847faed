"""ArtifactStore: run files in a folder, never read or written through a link out of the run."""

from __future__ import annotations

import os

import pytest

from runyard.artifacts import ArtifactStore, folder_files
from runyard.errors import ConfigError, NotFoundError

RUN = "exp_1700000000_ab12cd34"


@pytest.fixture
def job_outputs(tmp_path):
    """A job's outputs/: a file, a link to it, a link to the password file."""
    folder = tmp_path / "work" / "outputs"
    (folder / "model").mkdir(parents=True)
    (folder / "real.txt").write_text("real bytes")
    (folder / "model" / "w.bin").write_bytes(b"\x00\x01")
    (folder / "ok").symlink_to("real.txt")
    (folder / "evil").symlink_to("/etc/passwd")
    return folder


def test_folder_files_names_files_under_the_prefix(job_outputs):
    contents = folder_files(job_outputs, "outputs/")
    assert [f.name for f in contents.files] == ["outputs/model/w.bin", "outputs/ok", "outputs/real.txt"]
    assert [item.name for item in contents.left_out] == ["outputs/evil"]
    with pytest.raises(ConfigError, match="is not a folder"):
        folder_files(job_outputs / "real.txt", "x")


@pytest.mark.parametrize("move", [True, False])
def test_put_folder_stores_links_inside_as_files_and_leaves_out_the_rest(tmp_path, job_outputs, move):
    store = ArtifactStore(tmp_path / "artifacts")
    lines: list[str] = []
    names = store.put_folder(RUN, "outputs", job_outputs, move=move, log=lines.append)
    assert names == ["outputs/model/w.bin", "outputs/ok", "outputs/real.txt"]
    assert lines == ["runyard: left out outputs/evil: a link to a file outside outputs/ (/etc/passwd)"]
    run_dir = store.run_dir(RUN)
    assert not any(p.is_symlink() for p in run_dir.rglob("*"))
    assert (run_dir / "outputs" / "ok").read_text() == (run_dir / "outputs" / "real.txt").read_text() == "real bytes"
    assert store.list(RUN) == names
    assert (job_outputs / "real.txt").exists() is not move


def test_put_folder_says_on_stderr_what_it_left_out_by_default(tmp_path, job_outputs, capsys):
    ArtifactStore(tmp_path / "artifacts").put_folder(RUN, "outputs", job_outputs)
    assert "runyard: left out outputs/evil: a link to a file outside outputs/ (/etc/passwd)" in capsys.readouterr().err


@pytest.fixture
def planted(tmp_path):
    """A store an older runyard (or a hand) filled with links."""
    store = ArtifactStore(tmp_path / "artifacts")
    store.put_file(RUN, "outputs/real.txt", _stream(b"real"))
    outputs = store.run_dir(RUN) / "outputs"
    (outputs / "evil").symlink_to("/etc/passwd")
    (outputs / "ok").symlink_to("real.txt")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "secret.txt").write_text("secret")
    (outputs / "dir").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    return store


def _stream(data: bytes):
    import io
    return io.BytesIO(data)


def test_list_path_and_download_never_follow_a_link_out_of_the_run(planted, tmp_path):
    assert planted.list(RUN) == ["outputs/ok", "outputs/real.txt"]
    assert planted.path(RUN, "outputs/ok").read_text() == "real"
    for name in ("outputs/evil", "outputs/dir/secret.txt", "outputs/dir"):
        with pytest.raises(NotFoundError, match=f"has no file {name!r}"):
            planted.path(RUN, name)
        with pytest.raises(NotFoundError):
            planted.download(RUN, name, tmp_path / "down" / "x")
    assert not (tmp_path / "down" / "x").exists()
    assert [item.name for item in planted.contents(RUN).left_out] == ["outputs/dir", "outputs/evil"]


def test_a_run_folder_that_is_a_link_is_absent(tmp_path):
    store = ArtifactStore(tmp_path / "artifacts")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "f.txt").write_text("f")
    (tmp_path / "artifacts" / "runs").mkdir(parents=True)
    store.run_dir(RUN).symlink_to(tmp_path / "other", target_is_directory=True)
    assert store.list(RUN) == []
    with pytest.raises(NotFoundError):
        store.path(RUN, "f.txt")
    with pytest.raises(ConfigError, match="runyard writes no file through a link"):
        store.put_file(RUN, "g.txt", _stream(b"g"))
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["f.txt"]


def test_writes_never_go_through_a_link_in_the_run(planted, tmp_path):
    with pytest.raises(ConfigError, match="runyard writes no file through a link, remove it"):
        planted.put_file(RUN, "outputs/dir/new.txt", _stream(b"x"))
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["secret.txt"]
    planted.put_file(RUN, "outputs/evil", _stream(b"replaced"))  # the link itself is replaced
    assert not (planted.run_dir(RUN) / "outputs" / "evil").is_symlink()


def test_download_replaces_a_link_at_the_destination_instead_of_writing_through_it(planted, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    (tmp_path / "to.txt").symlink_to(victim)
    planted.download(RUN, "outputs/real.txt", tmp_path / "to.txt")
    assert victim.read_text() == "untouched"
    assert (tmp_path / "to.txt").read_text() == "real" and not (tmp_path / "to.txt").is_symlink()


@pytest.mark.parametrize("run_id", ["..", "../other", "a/b", "", ".hidden", "x" * 256])
def test_run_ids_that_are_no_folder_name_are_refused(tmp_path, run_id):
    store = ArtifactStore(tmp_path / "artifacts")
    with pytest.raises(ConfigError, match="run_id"):
        store.run_dir(run_id)
    with pytest.raises(ConfigError, match="run_id"):
        store.list(run_id)


def test_ids_runyard_makes_are_valid(tmp_path):
    import uuid
    store = ArtifactStore(tmp_path / "artifacts")
    for run_id in (RUN, f"model-{uuid.uuid4().hex}", uuid.uuid4().hex):
        assert store.run_dir(run_id).name == run_id
    assert os.fspath(store.run_dir(RUN)).endswith(f"runs/{RUN}")


def test_put_file_with_a_sha256_refuses_other_bytes_and_stores_nothing(tmp_path):
    import hashlib
    store = ArtifactStore(tmp_path / "artifacts")
    (tmp_path / "m.bin").write_bytes(b"weights")
    right = hashlib.sha256(b"weights").hexdigest()
    with pytest.raises(ConfigError, match="changed while it was copied; nothing was stored"):
        store.put_file("run_1", "m.bin", tmp_path / "m.bin", sha256="0" * 64)
    assert store.list("run_1") == [] and not [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]
    assert store.put_file("run_1", "m.bin", tmp_path / "m.bin", sha256=right) == "m.bin"
    assert store.digest("run_1", "m.bin") == right
