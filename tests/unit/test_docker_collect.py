"""What a Docker job leaves in its container comes back without anything that points out of it."""

from __future__ import annotations

import io
import tarfile

from runyard.compute.docker import _extract


def container_tar(members) -> bytes:
    """A tar as the engine's get_archive gives it: (name, kind, data or link target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size, info.mode = len(payload), 0o4777
                tar.addfile(info, io.BytesIO(payload))
            else:
                info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}[kind]
                info.linkname = payload or ""
                tar.addfile(info)
    return buffer.getvalue()


def test_members_pointing_or_landing_out_of_the_folder_are_left_out_with_a_line(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    target = tmp_path / "collected"
    target.mkdir()
    lines: list[str] = []
    _extract(container_tar([
        ("outputs", "dir", None),
        ("outputs/real.txt", "file", b"real"),
        ("outputs/ok", "symlink", "real.txt"),
        ("outputs/evil", "symlink", "/etc/passwd"),
        ("outputs/up", "symlink", "../../victim.txt"),
        ("outputs/hard", "hardlink", "/etc/passwd"),
        ("../victim.txt", "file", b"pwned"),
    ]), target, lines.append)
    assert (target / "outputs" / "real.txt").read_bytes() == b"real"
    assert (target / "outputs" / "real.txt").stat().st_mode & 0o7022 == 0  # no setuid, no write for others
    assert (target / "outputs" / "ok").is_symlink()  # inside: put_folder stores it as real.txt's bytes
    assert not any((target / "outputs" / name).exists() or (target / "outputs" / name).is_symlink()
                   for name in ("evil", "up", "hard"))
    assert victim.read_text() == "untouched"
    assert lines[:3] == [
        "runyard: left out outputs/evil: a link to /etc/passwd, out of the folder",
        "runyard: left out outputs/up: a link to ../../victim.txt, out of the folder",
        "runyard: left out outputs/hard: a link to /etc/passwd, out of the folder",
    ]
    assert len(lines) == 4 and lines[3].startswith("runyard: left out ../victim.txt: not unpacked:")
