"""Reading a log by byte offset as it grows: whole characters only, nothing lost or repeated."""

from __future__ import annotations

import pytest

from runyard.artifacts import ArtifactStore
from runyard.errors import ConfigError, NotFoundError
from runyard.studio.logs import list_logs, read_log, whole_characters


@pytest.mark.parametrize("text", ["abc", "é", "日本", "🙂x", "a🙂"])
def test_a_cut_character_is_left_for_the_next_read(text):
    data = text.encode()
    for cut in range(len(data) + 1):
        kept = whole_characters(data[:cut])
        assert data[:kept].decode() == data[:cut].decode(errors="ignore")


def test_a_growing_log_read_from_each_next_offset_is_the_whole_log(tmp_path):
    artifacts = ArtifactStore(tmp_path)
    log = artifacts.run_dir("run_1") / "logs" / "driver.log"
    log.parent.mkdir(parents=True)
    written = "epoch 1 — loss 0.5 ✓\n日本語 🙂\n" * 50
    data, text, offset = written.encode(), [], 0
    with open(log, "wb") as out:
        for start in range(0, len(data), 7):  # flushed 7 bytes at a time: characters cut in two
            out.write(data[start:start + 7])
            out.flush()
            chunk = read_log(artifacts, "run_1", "driver.log", offset, limit=5)
            assert chunk["offset"] == offset and chunk["size"] == min(len(data), start + 7)
            text.append(chunk["text"])
            offset = chunk["next_offset"]
    while offset < len(data):
        chunk = read_log(artifacts, "run_1", "driver.log", offset, limit=5)
        text.append(chunk["text"])
        offset = chunk["next_offset"]
    assert "".join(text) == written
    assert list_logs(artifacts, "run_1") == [{"name": "driver.log", "size": len(data)}]
    with pytest.raises(ConfigError, match="offset: 99999 is past the end"):
        read_log(artifacts, "run_1", "driver.log", 99999)
    with pytest.raises(NotFoundError):
        read_log(artifacts, "run_1", "absent.log", 0)
