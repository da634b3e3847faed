"""folders: a folder's files, read without following a link out of it."""

from __future__ import annotations

import os

import pytest

from runyard import folders


@pytest.fixture
def outputs(tmp_path):
    """An outputs/ folder with every kind of link a job can leave there."""
    folder = tmp_path / "outputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "real.txt").write_text("real")
    (folder / "sub" / "deep.txt").write_text("deep")
    (tmp_path / "outside.txt").write_text("not the run's")
    (folder / "ok").symlink_to("real.txt")
    (folder / "sub" / "up").symlink_to("../real.txt")
    (folder / "evil").symlink_to("/etc/passwd")
    (folder / "sneaky").symlink_to("../outside.txt")
    (folder / "dangling").symlink_to("gone.txt")
    (folder / "loop").symlink_to("loop")
    (folder / "folder_link").symlink_to("sub", target_is_directory=True)
    (folder / "etc").symlink_to("/etc", target_is_directory=True)
    os.mkfifo(folder / "pipe")
    return folder


def test_walk_keeps_files_and_links_inside_and_says_why_the_rest_is_left_out(outputs, tmp_path):
    found = folders.walk(outputs, "outputs")
    assert [(f.name, f.path, f.linked) for f in found.files] == [
        ("outputs/ok", outputs / "real.txt", True),
        ("outputs/real.txt", outputs / "real.txt", False),
        ("outputs/sub/deep.txt", outputs / "sub" / "deep.txt", False),
        ("outputs/sub/up", outputs / "real.txt", True),
    ]
    assert [item.line() for item in found.left_out] == [
        "runyard: left out outputs/dangling: a link to gone.txt, which does not exist",
        "runyard: left out outputs/etc: a link to a folder outside outputs/ (/etc)",
        "runyard: left out outputs/evil: a link to a file outside outputs/ (/etc/passwd)",
        "runyard: left out outputs/folder_link: a link to a folder (sub); only links to files are followed",
        "runyard: left out outputs/loop: a link that loops (loop)",
        "runyard: left out outputs/pipe: not a regular file but a FIFO",
        f"runyard: left out outputs/sneaky: a link to a file outside outputs/ ({tmp_path / 'outside.txt'})",
    ]


def test_a_folder_reached_through_a_link_is_walked_as_itself(outputs, tmp_path):
    (tmp_path / "alias").symlink_to(outputs, target_is_directory=True)
    found = folders.walk(tmp_path / "alias", "outputs")
    assert [f.name for f in found.files] == ["outputs/ok", "outputs/real.txt", "outputs/sub/deep.txt", "outputs/sub/up"]


def test_open_found_refuses_a_file_swapped_for_a_link_after_the_walk(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    found = folders.walk(folder).files[0]
    with folders.open_found(found) as fh:
        assert fh.read() == b"a"
    (folder / "a.txt").rename(tmp_path / "kept.txt")  # kept: its inode is not reused below
    (folder / "a.txt").symlink_to("/etc/passwd")
    with pytest.raises(folders.FileChangedError, match="changed while it was being stored"):
        folders.open_found(found)
    (folder / "a.txt").unlink()
    (folder / "a.txt").write_text("another file")
    with pytest.raises(folders.FileChangedError):
        folders.open_found(found)


def test_make_folders_never_goes_through_a_link(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "out").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert folders.make_folders(tmp_path / "base", ["a", "b"]) == tmp_path / "base" / "a" / "b"
    with pytest.raises(folders.LinkOnPathError):
        folders.make_folders(tmp_path / "base", ["out", "x"])
    assert list((tmp_path / "elsewhere").iterdir()) == []
