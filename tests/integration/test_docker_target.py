"""The Docker target: one image per environment hash (engine, then registry, then a build),
one container per run, the job's logging relayed through a spool by its supervisor.

Everything runs on a real engine (started by the fixtures when none runs) from a small
Debian base image, with a registry of this session's own. Runs that need no particular
environment share the "default" image, so it is built once.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from runyard import Environment, ScriptRunConfig
from runyard import status as st
from runyard.compute.docker import DockerCompute
from runyard.compute.docker_images import image_tag
from runyard.errors import ComputeError

pytestmark = pytest.mark.docker

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sklearn-diabetes"


@pytest.fixture(autouse=True)
def no_container_left(docker_target):
    """Every test here runs against the "docker" target, whose teardown fails the test if a
    container of its runs is still there."""
    return docker_target


def build_log(run) -> str:
    path = run.workspace._artifacts.run_dir(run.id) / "logs" / "environment_build.log"
    return path.read_text(errors="replace")


def tag_of(experiment, environment: Environment | None) -> str:
    """The image tag of ``environment`` on the experiment's docker target (its settings count)."""
    settings = experiment.workspace.compute_targets["docker"].config
    spec = environment.model_dump(mode="json") if environment is not None else {"name": "default"}
    return image_tag(spec, settings)


def untag(client, *tags: str) -> None:
    """Take tags off the engine, keeping the layers under them (a rebuild then takes seconds)."""
    import docker.errors
    for tag in tags:
        try:
            client.images.remove(tag, force=True, noprune=True)
        except docker.errors.ImageNotFound:
            pass


def containers_of(client, run) -> list[dict]:
    return client.api.containers(all=True, filters={"label": f"runyard.run_id={run.id}"})


def engine_leftovers(client) -> set[str]:
    """Every container (running or not, build steps' too) and every dangling image on the engine."""
    return ({c["Id"] for c in client.api.containers(all=True)}
            | {i["Id"] for i in client.api.images(filters={"dangling": True})})


def build_shared_layers(experiment, project) -> None:
    """The default image, whose first layers every environment's image shares: after it, a build
    that stops at its own first step leaves nothing behind, whichever test runs first."""
    src = project({"t.py": "print('shared layers')\n"})
    experiment.submit(ScriptRunConfig(str(src), script="t.py", compute_target="docker")).wait_for_completion()


def log_so_far(run) -> str:
    path = run.workspace._artifacts.run_dir(run.id) / "logs" / "environment_build.log"
    return path.read_text(errors="replace") if path.is_file() else ""


def six_environment(name: str, version: str) -> Environment:
    env = Environment(name)
    env.python.conda_dependencies.add_pip_package(f"six=={version}")
    return env


USES_SIX = """\
import six
from runyard import Run
Run.get_context().log("six", six.__version__)
"""


# -- environments as images ----------------------------------------------------------
def test_sklearn_example(experiment, project):
    env = Environment.from_pip_requirements("sklearn-diabetes", EXAMPLE / "requirements.txt")
    config = ScriptRunConfig(str(EXAMPLE), script="train.py", arguments=["--alpha-step", 0.25],
                             compute_target="docker", environment=env)
    run = experiment.submit(config, tags={"model": "ridge"})
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert details["target"] == "docker"
    metrics = run.get_metrics()
    assert metrics["data_rows"] == 442
    assert metrics["alpha"] == [0.0, 0.25, 0.5, 0.75]
    assert len(metrics["mse"]) == 4 and all(2000 < mse < 5000 for mse in metrics["mse"])
    assert run.get_tags()["best_alpha"] in {"0.00", "0.25", "0.50", "0.75"}
    names = run.get_file_names()
    assert {f"outputs/ridge_{a:.2f}.pkl" for a in metrics["alpha"]} <= set(names)
    assert "best alpha" in run.get_log()


def test_second_run_finds_the_image(experiment, project):
    config = ScriptRunConfig(str(project({"t.py": "print('hello from a container')\n"})), script="t.py",
                             compute_target="docker")
    experiment.submit(config).wait_for_completion()
    second = experiment.submit(config)
    second.wait_for_completion()
    log = build_log(second)
    tag = tag_of(experiment, None)
    assert f"Image {tag} found on the engine" in log
    assert "Step " not in log and "Building image" not in log
    assert "hello from a container" in second.get_log()


def test_image_missing_on_the_engine_is_pulled_from_the_registry(workspace, experiment, project,
                                                                  docker_engine, registry):
    env = six_environment("from-registry", "1.16.0")
    tag = tag_of(experiment, env)
    remote = f"{registry}/{tag}"
    src = project({"train.py": USES_SIX})
    untag(docker_engine, tag, remote)
    first = experiment.submit(ScriptRunConfig(str(src), script="train.py", compute_target="docker",
                                              environment=env))
    first.wait_for_completion()
    assert f"Pushing {remote}" in build_log(first) or f"Pulled {remote}" in build_log(first)

    untag(docker_engine, tag, remote)
    second = experiment.submit(ScriptRunConfig(str(src), script="train.py", compute_target="docker",
                                               environment=env))
    second.wait_for_completion()
    log = build_log(second)
    assert f"Pulled {remote}" in log
    # the pull's progress, layer by layer (its layers were kept on the engine)
    assert re.search(r"^  [0-9a-f]{12}: (Already exists|Pull complete)$", log, re.MULTILINE), log
    assert "Status: Downloaded newer image" in log
    assert "Building image" not in log and "Step " not in log
    assert second.get_metrics() == {"six": "1.16.0"}
    assert docker_engine.images.get(tag).tags  # tagged under its own name again


def test_concurrent_runs_of_a_new_environment_build_it_once(workspace, experiment, project, docker_engine):
    env = six_environment("built-once", "1.15.0")
    tag = tag_of(experiment, env)
    untag(docker_engine, tag)  # new to the engine; the session's registry never had it
    src = project({"train.py": USES_SIX})
    runs = [experiment.submit(ScriptRunConfig(str(src), script="train.py", compute_target="docker",
                                              environment=env)) for _ in range(3)]
    for run in runs:
        run.wait_for_completion()
    logs = [build_log(run) for run in runs]
    assert sum(log.count("Building image") for log in logs) == 1, logs
    assert sum("was built by another run" in log or "found on the engine" in log for log in logs) == 2
    assert all(run.get_metrics() == {"six": "1.15.0"} for run in runs)


def test_failing_dockerfile_step(workspace, experiment, project, docker_engine):
    import docker.errors
    build_shared_layers(experiment, project)
    before = engine_leftovers(docker_engine)
    env = Environment("broken-step", docker={"extra_steps": ["RUN echo about to fail && exit 3"]})
    src = project({"t.py": "print('never runs')\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="t.py", compute_target="docker", environment=env))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    message = details["error"]["message"]
    assert "environment build failed" in message
    assert "the image of environment 'broken-step' could not be built" in message
    assert "returned a non-zero code: 3" in message
    assert [e["status"] for e in details["statusHistory"]][-2:] == [st.PREPARING, st.FAILED]
    assert "logs/environment_build.log" in run.get_file_names()
    log = build_log(run)
    assert "about to fail" in log and "Build failed" in log
    with pytest.raises(docker.errors.ImageNotFound):
        docker_engine.images.get(tag_of(experiment, env))
    assert "never runs" not in run.get_log()
    assert not engine_leftovers(docker_engine) - before  # no build container, no untagged image


def test_unknown_base_image(experiment, project):
    env = Environment("no-base", docker={"base_image": "runyard-test/no-such-image:1"})
    src = project({"t.py": "print('never runs')\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="t.py", compute_target="docker", environment=env))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    message = details["error"]["message"]
    assert "the image of environment 'no-base' could not be built" in message
    assert "its base image 'runyard-test/no-such-image:1' is not on the engine and could not be pulled" in message
    assert "logs/environment_build.log" in run.get_file_names()


def test_a_registry_that_does_not_answer_is_a_warning(workspace, experiment, project, docker_engine, base_image):
    from docker_services import TARGET_SETTINGS, free_port
    nowhere = f"127.0.0.1:{free_port()}"  # nothing listens there
    workspace.compute_targets.attach("docker-registry-down", DockerCompute(
        **TARGET_SETTINGS, default_base_image=base_image, registry=nowhere))
    env = six_environment("registry-down", "1.14.0")
    tag = tag_of(experiment, env)
    untag(docker_engine, tag)
    run = experiment.submit(ScriptRunConfig(str(project({"train.py": USES_SIX})), script="train.py",
                                            compute_target="docker-registry-down", environment=env))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert run.get_metrics() == {"six": "1.14.0"}
    log = build_log(run)
    assert f"Warning: the registry {nowhere} did not answer" in log  # the lookup
    assert f"Warning: pushing {nowhere}/{tag} failed" in log and "the run uses the image built here" in log
    assert docker_engine.images.get(tag).tags


def test_cancel_during_an_image_build_stops_the_build(experiment, project, docker_engine, wait_for):
    import time
    import docker.errors
    build_shared_layers(experiment, project)
    before = engine_leftovers(docker_engine)
    env = Environment("slow-build", docker={"extra_steps": ["RUN echo slow step started && sleep 60"]})
    run = experiment.submit(ScriptRunConfig(str(project({"t.py": "print('never runs')\n"})), script="t.py",
                                            compute_target="docker", environment=env))
    wait_for(lambda: "slow step started" in log_so_far(run), timeout=120, what="the slow step to start")
    canceled_at = time.monotonic()
    run.cancel()
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.CANCELED
    assert time.monotonic() - canceled_at < 20  # not after the step's 60 s
    assert st.STARTING not in [e["status"] for e in details["statusHistory"]]
    # the supervisor notes it in the build's log as it stops (the status may be recorded first)
    wait_for(lambda: "Canceled" in build_log(run), timeout=30, what="the build log to say Canceled")
    with pytest.raises(docker.errors.ImageNotFound):
        docker_engine.images.get(tag_of(experiment, env))
    # the engine kills and removes the step's container once the build's client is gone
    wait_for(lambda: not engine_leftovers(docker_engine) - before, timeout=30, what="the build's container to go")


def test_an_environment_from_a_base_dockerfile(experiment, project, base_image, docker_engine):
    env = Environment("from-dockerfile", docker={
        "base_dockerfile": f"FROM {base_image}\nRUN echo made by the base Dockerfile > /opt/marker.txt\n"})
    untag(docker_engine, tag_of(experiment, env))  # built by this test (from cached layers, if any)
    src = project({"t.py": "print(open('/opt/marker.txt').read())\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="t.py", compute_target="docker", environment=env))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert "made by the base Dockerfile" in run.get_log()
    assert f"FROM {base_image}\nRUN echo made by the base Dockerfile" in build_log(run)


def test_a_gpu_run_needs_gpus_on_the_target(workspace, experiment, project, base_image, registry):
    from docker_services import TARGET_SETTINGS
    from runyard import RunConfiguration
    from runyard.compute.local import local_gpus
    src = project({"t.py": "print('never runs')\n"})
    one_gpu = RunConfiguration(num_gpus=1)
    run = experiment.submit(ScriptRunConfig(str(src), script="t.py", compute_target="docker", run_config=one_gpu))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    message = details["error"]["message"]
    assert "asks for 1 GPU(s)" in message and "'docker' gives its containers none" in message
    assert "`gpus`" in message
    assert [e["status"] for e in details["statusHistory"]][-2:] == [st.PREPARING, st.FAILED]
    if local_gpus():
        return
    # with devices set, the engine is asked for them (and has none to give here)
    workspace.compute_targets.attach("docker-gpus", DockerCompute(
        **TARGET_SETTINGS, default_base_image=base_image, registry=registry, gpus="0,1"))
    run = experiment.submit(ScriptRunConfig(str(src), script="t.py", compute_target="docker-gpus",
                                            run_config=one_gpu))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    assert "the container could not start" in details["error"]["message"]
    assert "gpu" in details["error"]["message"]


def test_no_engine_fails_the_submit_saying_how_to_start_one(workspace, experiment, project):
    workspace.compute_targets.attach("nowhere", DockerCompute(base_url="unix:///tmp/no-such.sock"))
    src = project({"t.py": "print('never runs')\n"})
    with pytest.raises(ComputeError, match="Start one"):
        experiment.submit(ScriptRunConfig(str(src), script="t.py", compute_target="nowhere"))
    [run] = experiment.get_runs()
    details = run.get_details()
    assert details["status"] == st.FAILED
    assert details["target"] == "nowhere"
    assert "could not start on nowhere" in details["error"]["message"]
    assert "no Docker engine answers at unix:///tmp/no-such.sock" in details["error"]["message"]
    assert "Start one" in details["error"]["message"]


# -- the container -------------------------------------------------------------------------
# Cancel and max_run_duration_seconds on Docker are also covered by the tests of
# test_run_driver.py and test_failures.py run with compute_target "docker".
def test_job_runs_in_a_container_of_its_own_until_canceled(experiment, project, docker_engine, wait_for):
    src = project({"job.py": """\
        import os, time
        with open("data.txt", "a") as fh:  # a copy: the source folder is not mounted
            fh.write("changed by the job")
        print("uid", os.getuid(), "cwd", os.getcwd(), flush=True)
        time.sleep(120)
        """, "data.txt": "original"})
    limited = {**experiment.workspace.compute_targets["docker"].config, "cpus": 0.5, "shm_size": "96m"}
    experiment.workspace.compute_targets.attach("docker", DockerCompute(**limited))
    run = experiment.submit(ScriptRunConfig(str(src), script="job.py", compute_target="docker"))
    wait_for(lambda: "uid" in run.get_log(), what="the job to start")
    [listed] = containers_of(docker_engine, run)
    container = docker_engine.containers.get(listed["Id"])
    assert container.status == "running"
    assert container.attrs["Config"]["User"] == "runyard"
    assert container.attrs["HostConfig"]["NetworkMode"] == "host"
    assert container.attrs["HostConfig"]["Memory"] == 1024 ** 3
    assert container.attrs["HostConfig"]["NanoCpus"] == 500_000_000
    assert container.attrs["HostConfig"]["ShmSize"] == 96 * 1024 ** 2
    assert container.labels["runyard.workspace"] == str(experiment.workspace.path)
    assert "uid 1000 cwd /runyard/job" in run.get_log()
    assert (src / "data.txt").read_text() == "original"
    run.cancel()
    details = run.wait_for_completion()
    assert details["status"] == st.CANCELED
    assert details["exitCode"] == -signal.SIGTERM  # ended by the SIGTERM, not the SIGKILL after it
    wait_for(lambda: not containers_of(docker_engine, run), timeout=30, what="the container to be removed")


def test_out_of_memory(workspace, experiment, project, base_image, registry):
    from docker_services import TARGET_SETTINGS
    workspace.compute_targets.attach("docker-small", DockerCompute(
        **{**TARGET_SETTINGS, "memory": "64m"}, default_base_image=base_image, registry=registry))
    src = project({"hog.py": """\
        print("allocating 500 MB", flush=True)
        blocks = [b"x" * (10 * 1024 * 1024) for _ in range(50)]
        print("allocated", flush=True)
        """})
    run = experiment.submit(ScriptRunConfig(str(src), script="hog.py", compute_target="docker-small"))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    assert "out of memory" in details["error"]["message"] and "OOM" in details["error"]["message"]
    assert "64m" in details["error"]["message"]
    assert details["exitCode"] == -9
    assert "allocating 500 MB" in run.get_log() and "allocated\n" not in run.get_log()


def test_files_of_a_failed_container_are_collected(experiment, project, tmp_path):
    src = project({"partial.py": """\
        import os
        os.makedirs("outputs", exist_ok=True)
        with open("outputs/partial.txt", "w") as fh:
            fh.write("epoch 1 of 3")
        with open("logs/progress.log", "w") as fh:
            fh.write("epoch 1 done")
        raise RuntimeError("diverged at epoch 2")
        """})
    run = experiment.submit(ScriptRunConfig(str(src), script="partial.py", compute_target="docker"))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    assert details["exitCode"] == 1
    assert "RuntimeError: diverged at epoch 2" in details["error"]["message"]
    names = run.get_file_names()
    assert {"outputs/partial.txt", "logs/progress.log", "logs/driver.log"} <= set(names)
    assert Path(run.download_file("outputs/partial.txt", tmp_path)).read_text() == "epoch 1 of 3"
    log = run.get_log()
    assert "Traceback (most recent call last)" in log and "RuntimeError: diverged at epoch 2" in log


# -- logging through the spool ---------------------------------------------------------------
# Metrics, tags, child runs and uploads of a job in a container: test_run_job_side.py.
def test_metrics_in_a_loop_and_a_grandchild_created_earlier(experiment, project):
    src = project({"many.py": """\
        import time
        from runyard import Run
        run = Run.get_context()
        child = run.child_run("child")
        grandchild = child.child_run("grandchild")
        run.flush()
        time.sleep(1.5)  # the supervisor relays the new runs before they log
        for i in range(5000):
            run.log("step", i)
        grandchild.log("depth", 2)
        grandchild.tag("late", "yes")
        grandchild.fail("stopped early")
        child.complete()
        """})
    run = experiment.submit(ScriptRunConfig(str(src), script="many.py", compute_target="docker"))
    run.wait_for_completion()
    assert run.get_metrics(name="step")["step"] == list(range(5000))
    [child] = run.get_children()
    [grandchild] = child.get_children()
    assert grandchild.get_metrics() == {"depth": 2}
    assert grandchild.get_tags() == {"late": "yes"}
    assert grandchild.get_status() == st.FAILED
    assert grandchild.get_details()["error"]["message"] == "stopped early"


def test_a_distributed_job_runs_its_processes_in_one_container(experiment, project):
    """The representative multi-process job on Docker (test_estimators.py trains DDP on the
    local and Ray targets): two processes with their ranks, a log per rank, one container."""
    from runyard import PyTorchConfiguration
    src = project({"ranks.py": """\
        import os
        from runyard import Run
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        print(f"rank {rank} of {world} local_rank {os.environ['LOCAL_RANK']} master "
              f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}", flush=True)
        if rank == 0:
            Run.get_context().log("world_size", world)
        """})
    run = experiment.submit(ScriptRunConfig(str(src), script="ranks.py", compute_target="docker",
                                            distributed_job_config=PyTorchConfiguration(process_count=2)))
    details = run.wait_for_completion(timeout=300, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert run.get_metrics() == {"world_size": 2}
    logs = run.workspace._artifacts.run_dir(run.id) / "logs"
    assert "rank 1 of 2 local_rank 1" in (logs / "rank_1.log").read_text()


def test_cli_attach_build_images_prune(workspace, base_image, registry, project, docker_engine, tmp_path):
    """The CLI for the Docker target: attach, build an image ahead of a run, list, prune."""
    import json
    import os
    import subprocess
    import sys
    import time
    import docker.errors

    def runyard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "runyard.cli", "-w", str(workspace.path), *args],
                              capture_output=True, text=True, timeout=600, env=env)

    attached = runyard("compute", "attach", "docker", "box", "--network", "host", "--build-network", "host",
                       "--ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "--default-base-image", base_image,
                       "--memory", "1g")
    assert attached.returncode == 0, attached.stderr
    targets = {t["name"]: t for t in json.loads(runyard("compute", "list", "--json").stdout)}
    assert targets["box"]["type"] == "docker" and targets["box"]["memory"] == "1g"

    src = project({"requirements.txt": "six==1.16.0\n"})
    built = runyard("env", "build", "--target", "box", "-f", str(src / "requirements.txt"))
    assert built.returncode == 0, built.stderr
    tag = built.stdout.strip().rsplit(" ", 1)[-1]
    assert tag.startswith("runyard/env:")
    docker_engine.images.get(tag)  # it is on the engine

    images = json.loads(runyard("env", "images", "--target", "box", "--json").stdout)
    assert tag in [i["tag"] for i in images]
    listed = next(i for i in images if i["tag"] == tag)
    # the label names the environment the image was first built for (names are not in the hash)
    assert listed["environment"] and listed["size_mb"] > 0

    dry = runyard("env", "prune", "--target", "box", "--all", "--dry-run")
    assert f"would remove {tag}" in dry.stdout
    dry_json = json.loads(runyard("env", "prune", "--target", "box", "--all", "--dry-run", "--json").stdout)
    assert {"tag": tag, "hash": tag.split(":", 1)[1], "removed": False} in dry_json
    docker_engine.images.get(tag)  # a dry run removes nothing

    # Last use is recorded per cache folder: to another cache, an image is as old as it was made.
    other_cache = tmp_path / "other-cache"
    elsewhere = {**os.environ, "RUNYARD_CACHE_DIR": str(other_cache)}
    kept = runyard("env", "prune", "--target", "box", "--dry-run", env=elsewhere)  # 30 days
    assert kept.returncode == 0, kept.stderr
    assert tag not in kept.stdout
    # Unused for 10 days: removed for real (every other image on the engine counts as used now).
    now = time.time()
    usage = {t: now for image in docker_engine.images.list(name="runyard/env") for t in image.tags}
    other_cache.mkdir()
    (other_cache / "docker-images.json").write_text(json.dumps({**usage, tag: now - 10 * 86400}))
    pruned = runyard("env", "prune", "--target", "box", "--unused-days", "5", env=elsewhere)
    assert pruned.returncode == 0, pruned.stderr
    assert f"removing {tag}" in pruned.stdout and "1 image(s) removed" in pruned.stdout
    with pytest.raises(docker.errors.ImageNotFound):
        docker_engine.images.get(tag)

    bad = runyard("compute", "attach", "docker", "bad", "--memory", "lots")
    assert bad.returncode == 2 and "memory" in bad.stderr
    bad = runyard("compute", "attach", "docker", "bad", "--gpus", "lots")
    assert bad.returncode == 2 and "gpus" in bad.stderr and "device=0,1" in bad.stderr
    assert runyard("compute", "detach", "box").returncode == 0
    assert "box" not in {t["name"] for t in json.loads(runyard("compute", "list", "--json").stdout)}
