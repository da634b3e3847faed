"""snapshot: which files go in, the content hash, the store, the limits."""

from __future__ import annotations

import os
import stat

import pytest

from runyard import snapshot
from runyard.errors import ConfigError, SnapshotError


def names(folder) -> list[str]:
    return [rel for rel, _path, _size in snapshot.list_files(folder)]


def test_runyardignore_beats_amlignore_beats_gitignore(project):
    files = {"keep.py": "", "a.txt": "", "b.txt": "", "c.txt": ""}
    all_three = project({**files, ".runyardignore": "a.txt\n", ".amlignore": "b.txt\n", ".gitignore": "c.txt\n"})
    assert names(all_three) == sorted([".amlignore", ".gitignore", ".runyardignore", "b.txt", "c.txt", "keep.py"])

    aml_and_git = project({**files, ".amlignore": "b.txt\n", ".gitignore": "c.txt\n"})
    assert names(aml_and_git) == sorted([".amlignore", ".gitignore", "a.txt", "c.txt", "keep.py"])

    git_only = project({**files, ".gitignore": "c.txt\n"})
    assert names(git_only) == sorted([".gitignore", "a.txt", "b.txt", "keep.py"])

    none = project(files)
    assert names(none) == sorted(files)


def test_gitignore_patterns_folders_and_negation(project):
    src = project({
        ".gitignore": "data/\n*.log\n!keep.log\n",
        "train.py": "", "run.log": "", "keep.log": "", "data/big.csv": "", "sub/data/x.csv": "",
        "sub/notes.log": "",
    })
    assert names(src) == [".gitignore", "keep.log", "train.py"]


def test_nested_ignore_file_applies_below_its_folder(project):
    src = project({
        ".runyardignore": "*.tmp\n",
        "a.csv": "", "x.tmp": "",
        "sub/.runyardignore": "*.csv\n", "sub/b.csv": "", "sub/deeper/c.csv": "", "sub/keep.py": "",
        "other/d.csv": "",
        # a nested file of another name is not the chosen ignore file: it does nothing
        "other/.gitignore": "*.csv\n",
    })
    assert names(src) == [".runyardignore", "a.csv", "other/.gitignore", "other/d.csv",
                          "sub/.runyardignore", "sub/keep.py"]


def test_without_a_root_ignore_file_each_folder_uses_its_own(project):
    src = project({
        "train.py": "",
        "data/.gitignore": "*.csv\n", "data/big.csv": "", "data/README": "",
        "notes/.amlignore": "*.txt\n", "notes/.gitignore": "*.md\n", "notes/a.txt": "", "notes/b.md": "",
    })
    # data/ has only a .gitignore; notes/ prefers its .amlignore over its .gitignore
    assert names(src) == ["data/.gitignore", "data/README", "notes/.amlignore", "notes/.gitignore",
                          "notes/b.md", "train.py"]


def test_git_and_runyard_folders_always_excluded(project):
    src = project({
        "train.py": "", ".git/HEAD": "ref", ".runyard/config.yaml": "name: x",
        "sub/.git/config": "", "__pycache__/m.pyc": "", ".gitignore": "!.git/\n!.runyard/\n",
    })
    assert names(src) == [".gitignore", "train.py"]


def test_identical_folders_have_one_hash_and_one_zip(project, tmp_path):
    files = {"train.py": "print('hello')\n", "pkg/util.py": "X = 1\n"}
    store = tmp_path / "store"
    first = snapshot.take(project(files), store)
    second = snapshot.take(project(files), store)
    assert first.hash == second.hash
    assert first.path == second.path
    assert [p.name for p in store.iterdir()] == [f"{first.hash}.zip"]
    assert (first.file_count, first.total_bytes) == (2, len("print('hello')\n") + len("X = 1\n"))


@pytest.mark.parametrize("change", ["content", "rename", "add"])
def test_any_change_gives_a_new_hash(project, tmp_path, change):
    files = {"train.py": "print('hello')\n", "pkg/util.py": "X = 1\n"}
    store = tmp_path / "store"
    before = snapshot.take(project(files), store)
    changed = dict(files)
    if change == "content":
        changed["pkg/util.py"] = "X = 2\n"
    elif change == "rename":
        changed["pkg/utils.py"] = changed.pop("pkg/util.py")
    else:
        changed["more.py"] = ""
    after = snapshot.take(project(changed), store)
    assert after.hash != before.hash
    assert sorted(p.name for p in store.iterdir()) == sorted([f"{before.hash}.zip", f"{after.hash}.zip"])


def test_extract_restores_files_and_modes(project, tmp_path):
    src = project({"run.sh": "#!/bin/sh\necho hi\n", "data/x.txt": "x"})
    os.chmod(src / "run.sh", 0o755)
    snap = snapshot.take(src, tmp_path / "store")
    out = tmp_path / "out"
    snapshot.extract(snap.path, out)
    assert (out / "run.sh").read_text() == "#!/bin/sh\necho hi\n"
    assert (out / "data" / "x.txt").read_text() == "x"
    assert stat.S_IMODE((out / "run.sh").stat().st_mode) == 0o755


def test_too_many_files_names_the_crowded_folder_and_stores_nothing(project, tmp_path):
    src = project({"train.py": "", **{f"images/{i}.png": "" for i in range(12)}, "b/x": "", "b/y": ""})
    store = tmp_path / "store"
    with pytest.raises(SnapshotError) as info:
        snapshot.take(src, store, max_files=10)
    message = str(info.value)
    assert "15 files" in message and "limit of 10" in message
    assert "images/ (12 files)" in message
    assert "RUNYARD_SNAPSHOT_MAX_FILES" in message
    assert not store.exists()


def test_too_many_megabytes_names_the_biggest_files(project, tmp_path):
    src = project({"train.py": "", "data/huge.bin": b"\0" * 300_000, "small.bin": b"\0" * 1000})
    with pytest.raises(SnapshotError) as info:
        snapshot.take(src, tmp_path / "store", max_mb=0.1)
    message = str(info.value)
    assert "data/huge.bin (0.3 MB)" in message
    assert message.index("data/huge.bin") < message.index("small.bin")
    assert "RUNYARD_SNAPSHOT_MAX_MB" in message


def test_limits_from_environment_variables(project, tmp_path, monkeypatch):
    src = project({"a.py": "", "b.py": "", "c.py": ""})
    monkeypatch.setenv("RUNYARD_SNAPSHOT_MAX_FILES", "2")
    with pytest.raises(SnapshotError, match="limit of 2"):
        snapshot.take(src, tmp_path / "store")
    monkeypatch.setenv("RUNYARD_SNAPSHOT_MAX_FILES", "3")
    assert snapshot.take(src, tmp_path / "store").file_count == 3
    monkeypatch.setenv("RUNYARD_SNAPSHOT_MAX_FILES", "many")
    with pytest.raises(ConfigError, match="must be numbers"):
        snapshot.take(src, tmp_path / "store")


def test_missing_source_folder(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        snapshot.list_files(tmp_path / "nope")


def test_progress_counts_hashing_then_zipping_up_to_twice_the_size(project, tmp_path):
    src = project({"a.bin": b"a" * 3000, "b/c.bin": b"c" * 5000})
    calls: list[tuple[int, int]] = []
    snapshot.take(src, tmp_path / "store", progress=lambda done, total: calls.append((done, total)))
    assert {total for _, total in calls} == {16000}
    assert [done for done, _ in calls] == [3000, 8000, 11000, 16000]  # hashed a, b/c; zipped a, b/c

    again: list[tuple[int, int]] = []
    snapshot.take(src, tmp_path / "store", progress=lambda done, total: again.append((done, total)))
    assert again == [(3000, 16000), (8000, 16000), (16000, 16000)]  # stored already: done at once


# -- links: a snapshot never carries a file from outside the source folder ---------------------
def test_links_inside_are_their_files_links_out_are_left_out_with_why(project, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("not the project's")
    src = project({"train.py": "print(1)\n", "data/real.csv": "a,b\n"})
    (src / "inside.csv").symlink_to("data/real.csv")
    (src / "evil.txt").symlink_to(outside)
    (src / "dangling.py").symlink_to("nowhere.py")
    (src / "loop_a").symlink_to("loop_b")
    (src / "loop_b").symlink_to("loop_a")
    (src / "data_alias").symlink_to("data", target_is_directory=True)
    (src / "etc").symlink_to("/etc", target_is_directory=True)

    assert names(src) == ["data/real.csv", "inside.csv", "train.py"]
    snap = snapshot.take(src, tmp_path / "store")
    why = {item.name: item.reason for item in snap.left_out}
    assert why == {
        "dangling.py": "a link to nowhere.py, which does not exist",
        "data_alias": "a link to a folder (data); only links to files are followed",
        "etc": "a link to a folder outside the source folder (/etc)",
        "evil.txt": f"a link to a file outside the source folder ({outside})",
        "loop_a": "a link that loops (loop_b)",
        "loop_b": "a link that loops (loop_a)",
    }
    out = tmp_path / "out"
    snapshot.extract(snap.path, out)
    assert (out / "inside.csv").read_text() == "a,b\n" and not (out / "inside.csv").is_symlink()
    assert sorted(p.name for p in out.iterdir()) == ["data", "inside.csv", "train.py"]


def test_an_ignored_link_is_not_reported(project, tmp_path):
    src = project({".gitignore": "evil.txt\n", "train.py": ""})
    (src / "evil.txt").symlink_to("/etc/passwd")
    assert snapshot.take(src, tmp_path / "store").left_out == ()


# -- extraction: only clean paths inside the destination, modes masked -----------------------
def crafted_zip(path, entries) -> str:
    """A zip holding ``entries``: (name, bytes, unix mode incl. file type bits)."""
    import zipfile
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (mode << 16) or 0x20  # no unix mode: only MS-DOS's archive bit
            zf.writestr(info, data)
    return str(path)


@pytest.mark.parametrize("name, problem", [
    ("{victim}", "is an absolute path"),
    ("../victim.txt", "climbs out of the folder with '..'"),
    ("a/../../victim.txt", "climbs out of the folder with '..'"),
    ("a\\..\\..\\victim.txt", "climbs out of the folder with '..'"),
])
def test_extract_refuses_entries_that_leave_the_destination(tmp_path, name, problem):
    victim = tmp_path / "victim.txt"  # where each entry would land, once unpacked in tmp_path/dest
    victim.write_text("untouched")
    os.chmod(victim, 0o600)
    name = name.format(victim=victim)
    zipped = crafted_zip(tmp_path / "crafted.zip", [("ok.py", b"print(1)", 0o100644),
                                                    (name, b"pwned", 0o104777)])
    destination = tmp_path / "dest"
    with pytest.raises(SnapshotError) as info:
        snapshot.extract(zipped, destination)
    message = str(info.value)
    assert repr(name) in message and problem in message and "submit from the source folder again" in message
    assert victim.read_text() == "untouched" and stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert list(destination.iterdir()) == []  # every entry is checked before one is written


def test_extract_refuses_link_entries_and_duplicates(tmp_path):
    link = crafted_zip(tmp_path / "link.zip", [("passwd", b"/etc/passwd", 0o120777)])
    with pytest.raises(SnapshotError, match="'passwd' is a symbolic link"):
        snapshot.extract(link, tmp_path / "d1")
    twice = crafted_zip(tmp_path / "twice.zip", [("a.py", b"1", 0o100644), ("./a.py", b"2", 0o100644)])
    with pytest.raises(SnapshotError, match="'./a.py' appears twice"):
        snapshot.extract(twice, tmp_path / "d2")
    file_and_folder = crafted_zip(tmp_path / "ff.zip", [("a", b"1", 0o100644), ("a/b", b"2", 0o100644)])
    with pytest.raises(SnapshotError, match="'a/b' appears twice"):
        snapshot.extract(file_and_folder, tmp_path / "d3")


def test_extract_never_writes_through_a_link_in_the_destination(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    destination = tmp_path / "dest"
    destination.mkdir()
    (destination / "sub").symlink_to(elsewhere, target_is_directory=True)
    (destination / "top.txt").symlink_to(elsewhere / "top.txt")
    with pytest.raises(SnapshotError, match="is a link or no folder"):
        snapshot.extract(crafted_zip(tmp_path / "a.zip", [("sub/x.txt", b"x", 0o100644)]), destination)
    with pytest.raises(SnapshotError, match="could not be written"):
        snapshot.extract(crafted_zip(tmp_path / "b.zip", [("top.txt", b"x", 0o100644)]), destination)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("stored_mode, given", [
    (0o104777, 0o755),  # setuid and world-writable: neither
    (0o102775, 0o755),  # setgid, group-writable
    (0o101777, 0o755),  # sticky
    (0o100400, 0o600),  # read-only: the owner may still rewrite it
    (0o100640, 0o640),
    (0, 0o644),  # no unix mode (a zip made on Windows)
])
def test_extract_masks_modes(tmp_path, stored_mode, given):
    zipped = crafted_zip(tmp_path / "modes.zip", [("bin/tool", b"#!/bin/sh\n", stored_mode)])
    snapshot.extract(zipped, tmp_path / "out")
    assert stat.S_IMODE((tmp_path / "out" / "bin" / "tool").stat().st_mode) == given


def test_stored_refuses_a_linked_snapshot_and_a_bad_hash(project, tmp_path):
    snap = snapshot.take(project({"a.py": ""}), tmp_path / "store")
    other = tmp_path / "other"
    other.mkdir()
    (other / snap.path.name).symlink_to(snap.path)
    assert snapshot.stored(snap.hash, tmp_path / "store").path == snap.path
    with pytest.raises(SnapshotError, match="is not in"):
        snapshot.stored(snap.hash, other)
    with pytest.raises(ConfigError, match="snapshot hash '../x'"):
        snapshot.stored("../x", tmp_path / "store")
