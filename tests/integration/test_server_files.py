"""The workspace server's file routes never serve a link out of a run's folder (whoever put it
there), and a client uploading a folder to it sends no file from outside that folder."""

from __future__ import annotations

import uuid

import pytest
import requests

from runyard import Experiment, Workspace
from runyard.errors import NotFoundError
from server_service import served_on_postgres

pytestmark = pytest.mark.postgres

API = "/api/v1"


@pytest.fixture(scope="module")
def served(postgres, tmp_path_factory):
    """(server URL, the server's artifacts folder)."""
    folder = tmp_path_factory.mktemp("files-server")
    for url in served_on_postgres(postgres, folder):
        yield url, folder / "artifacts"


def test_a_link_planted_in_a_run_folder_is_neither_listed_nor_served(served, tmp_path):
    url, artifacts = served
    run = Experiment(Workspace.get(url), f"exp_{uuid.uuid4().hex[:8]}").start_logging()
    run.upload_file("outputs/real.txt", str(_write(tmp_path / "real.txt", "real")))
    outputs = artifacts / "runs" / run.id / "outputs"
    (outputs / "evil").symlink_to("/etc/passwd")  # as an older runyard's collection left it
    (outputs / "ok").symlink_to("real.txt")
    run.complete()

    assert run.get_file_names() == ["outputs/ok", "outputs/real.txt"]
    content = f"{url}{API}/runs/{run.id}/files/content"
    assert requests.get(content, params={"name": "outputs/ok"}, timeout=10).content == b"real"
    answer = requests.get(content, params={"name": "outputs/evil"}, timeout=10)
    assert answer.status_code == 404 and b"root:" not in answer.content
    with pytest.raises(NotFoundError):
        run.download_file("outputs/evil", tmp_path / "evil")


def test_upload_folder_to_a_server_sends_links_inside_as_files_and_leaves_out_the_rest(served, tmp_path, capsys):
    url, _ = served
    run = Experiment(Workspace.get(url), f"exp_{uuid.uuid4().hex[:8]}").start_logging()
    folder = tmp_path / "assets"
    folder.mkdir()
    _write(folder / "a.txt", "a")
    (folder / "alias.txt").symlink_to("a.txt")
    (folder / "evil").symlink_to("/etc/passwd")
    assert run.upload_folder("assets", folder) == ["assets/a.txt", "assets/alias.txt"]
    assert "runyard: left out assets/evil: a link to a file outside assets/ (/etc/passwd)" in capsys.readouterr().err
    assert run.get_file_names() == ["assets/a.txt", "assets/alias.txt"]
    run.complete()


def _write(path, text):
    path.write_text(text)
    return path
