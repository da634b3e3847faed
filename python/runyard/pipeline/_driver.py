"""The process that runs one pipeline: ``python -m runyard.pipeline._driver WS RUN_ID``.

Started detached when the pipeline is submitted (so it outlives the submitting
session), it submits each step as a child run of the pipeline run once the steps
it reads from have Completed, at most ``max_concurrent_steps`` at a time, on the
step's compute target through the ordinary job contract. Before submitting it
looks for a Completed step run with the same reuse key (``runyard.pipeline.reuse``)
and records the step as reused instead. When a step completes (or is reused), its
outputs marked ``register_on_complete`` become dataset versions produced by the run
that wrote them. A step that fails ends its dependents
(recorded Failed, not run) while independent steps go on. Cancel requests stop
the running steps. Whatever happens, the pipeline run ends.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from .. import status as st
from ..errors import ConfigError
from ..compute.local import cancel_requested, claim_run, keep_driver_log, open_detached_run, release_run
from ..compute.log_shipping import LogShipper
from . import reuse
from .data import INPUTS_FOLDER, OUTPUTS_FOLDER

_CHECK_EVERY_S = 2.0
_CANCEL_WAIT_S = 120.0


def fill(tokens: list[dict[str, Any]], parameters: dict[str, Any], inputs: dict[str, str],
         outputs: dict[str, str]) -> list[str]:
    """Arguments as text: parameters by value, inputs and outputs by ``inputs``/``outputs``."""
    filled = []
    for token in tokens:
        if "text" in token:
            filled.append(token["text"])
        elif "parameter" in token:
            filled.append(str(parameters[token["parameter"]]))
        elif "settings" in token:  # a ParallelRunStep's settings, some given by parameters
            from .parallel_run_config import fill_settings
            filled.append(fill_settings(token, parameters))
        elif "input" in token:
            filled.append(inputs[token["input"]])
        else:
            filled.append(outputs[token["output"]])
    return filled


def step_reuse_key(step: dict[str, Any], parameters: dict[str, Any], upstream: dict[str, str],
                   datasets: list[dict[str, Any]]) -> str:
    """The reuse key (``reuse.step_key``) of ``step``, an entry of ``Pipeline._definition``:
    ``upstream`` maps each input read from an earlier step to the hash of that output's files,
    ``datasets`` are its dataset inputs as they are now (``consumption.refresh``). A
    ParallelRunStep submitted on its own is keyed here too, so it resumes as its step would."""
    from ..compute.local_env import submitting_interpreter
    job = step["job"]
    # a dataset counts by its content, not its name or path: changed data always reruns
    input_hashes = {**upstream, **{d["name"]: d["dataset"]["content_hash"] for d in datasets}}
    keyed = {n: f"<input:{h}>" for n, h in input_hashes.items()}
    key_outputs = {o: f"<output:{o}>" for o in step["outputs"]}
    command = job["command"]
    sweep = step.get("hyperdrive")  # a HyperDriveStep: its sweep's settings count too
    return reuse.step_key(
        job, fill(job["arguments"], parameters, keyed, key_outputs)
        + ([f"<hyperdrive:{json.dumps(sweep, sort_keys=True)}>"] if sweep else []),
        fill(command, parameters, keyed, key_outputs) if isinstance(command, list) else command,
        input_hashes=[input_hashes[i["name"]] for i in step["inputs"]] +
                     [d["dataset"]["content_hash"] for d in datasets],
        outputs=step["outputs"] + [f"{d['output']} -> {d['datastore']}:{d['path']}"
                                   for d in step.get("destinations", [])],
        python=submitting_interpreter())


class _Driver:
    def __init__(self, workspace_path: str, run_id: str):
        from ..experiment import Experiment
        self.workspace, row = open_detached_run(workspace_path, run_id)
        self.store = self.workspace._store
        self.run_id = run_id
        self.experiment = Experiment(self.workspace, row["experiment"])
        self.definition = json.loads(row["definition"])
        self.steps = {s["name"]: s for s in self.definition["steps"]}
        self.order = [s["name"] for s in self.definition["steps"]]
        self.parameters = self.definition["parameters"]
        self.pending = list(self.order)
        self.running: dict[str, str] = {}  # step -> its run id
        self.ended: dict[str, str] = {}  # step -> final status
        self.not_run: list[str] = []
        self.holder: dict[str, str] = {}  # step -> the run whose outputs/ hold its outputs
        self.hashes: dict[tuple[str, str], str] = {}
        self.cancel_requested = False
        self.next_check = time.monotonic() + _CHECK_EVERY_S

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    def on_sigterm(self, _signum: int, _frame: Any) -> None:
        self.cancel_requested = True

    def canceled(self) -> bool:
        self.cancel_requested = self.cancel_requested or cancel_requested(self.workspace, self.run_id)
        return self.cancel_requested

    def main(self) -> None:
        claim_run(self.workspace, self.run_id, self.on_sigterm)
        logs = self.workspace._artifacts.run_dir(self.run_id) / "logs"
        shipper = LogShipper(self.workspace, self.run_id, logs).start()  # live on a served workspace
        try:
            self._run()
        except BaseException as e:  # the pipeline run must end, whatever went wrong here
            traceback.print_exc()
            self._stop_running()
            self.store.set_status(self.run_id, st.FAILED, error=f"runyard pipeline driver error: "
                                                                f"{type(e).__name__}: {e}")
        finally:
            shipper.stop()
            from .pipeline import DRIVER_LOG
            keep_driver_log(self.workspace, self.run_id, DRIVER_LOG)
            release_run(self.run_id)

    def _run(self) -> None:
        if self.canceled():
            return self._cancel()
        self.store.set_status(self.run_id, st.RUNNING)
        self.log(f"pipeline run {self.run_id}: {len(self.order)} steps, at most "
                 f"{self.definition['max_concurrent_steps']} at a time")
        changed = time.monotonic()
        while self.pending or self.running:
            if self.canceled():
                return self._cancel()
            before = (len(self.pending), len(self.running))
            self._poll()
            self._skip_blocked()
            self._start_ready()
            if (len(self.pending), len(self.running)) != before:
                changed = time.monotonic()
                continue  # a step ended or was reused: the next may be ready now
            # quick while steps come and go (a chain of short steps), slower during a long step
            time.sleep(0.02 if time.monotonic() - changed < 10 else 0.25)
        self._finish()

    # -- steps -----------------------------------------------------------------------
    def _poll(self) -> None:
        check = time.monotonic() >= self.next_check
        if check:
            self.next_check = time.monotonic() + _CHECK_EVERY_S
        for name, step_run in list(self.running.items()):
            row = self.store.get_run(step_run)
            if row is not None and row["status"] not in st.TERMINAL and check:
                self._target(name).check(step_run)  # a step whose supervisor vanished ends Failed
                row = self.store.get_run(step_run)
            if row is None or row["status"] in st.TERMINAL:
                status = row["status"] if row else st.FAILED
                del self.running[name]
                self.ended[name] = status
                error = row["error"] if row and status != st.COMPLETED else None
                self.log(f"step {name!r} ({step_run}): {status}" + (f": {_first_line(error)}" if error else ""))
                if status == st.COMPLETED and self.steps[name].get("hyperdrive"):
                    best = self._best_trial(name, step_run)
                    if best is None:
                        self._fail_completed(name, step_run, "its sweep has no best trial",
                                             ValueError("no trial logged the primary metric "
                                                        f"{self.steps[name]['hyperdrive']['primary_metric_name']!r}"))
                        continue
                    self.holder[name] = best
                    self.log(f"step {name!r}: the best trial is {best}; its outputs are the step's")
                if status == st.COMPLETED:
                    self._register_outputs(name, step_run)

    def _skip_blocked(self) -> None:
        if self.definition.get("continue_on_step_failure") is False:
            failed = next((n for n in self.order if self.ended.get(n) == st.FAILED and n not in self.not_run), None)
            if failed is not None:  # no step starts after a failure; those running finish
                for name in list(self.pending):
                    self.pending.remove(name)
                    self._record_not_run(name, st.CANCELED, f"not run: step {failed!r} failed and the pipeline "
                                                             f"run has continue_on_step_failure=False")
                return
        for name in list(self.pending):
            failed = [u for u in self.steps[name]["upstream"] if u in self.ended and self.ended[u] != st.COMPLETED]
            if failed:
                self.pending.remove(name)
                self._record_not_run(name, st.FAILED, f"not run: step {failed[0]!r}, whose outputs it reads, "
                                                      f"ended {self.ended[failed[0]]}")

    def _start_ready(self) -> None:
        limit = int(self.definition["max_concurrent_steps"])
        for name in list(self.pending):
            if len(self.running) >= limit:
                return
            if all(self.ended.get(u) == st.COMPLETED for u in self.steps[name]["upstream"]):
                self.pending.remove(name)
                try:
                    self._start(name)
                except Exception as e:  # this step could not start; the others go on
                    traceback.print_exc()
                    self._record_not_run(name, st.FAILED, f"could not start: {type(e).__name__}: {e}")

    def _start(self, name: str) -> None:
        from ..environment import Environment
        from ..data.consumption import refresh
        from ..job import submit_job
        step = self.steps[name]
        if step["kind"] == "automl":
            return self._start_automl(name)
        job = step["job"]
        datasets = [refresh(d, self.workspace) for d in step.get("datasets", [])]
        inputs = {i["name"]: f"{INPUTS_FOLDER}/{i['name']}" for i in step["inputs"]}
        inputs.update({d["name"]: d["argument"] for d in datasets if d["mode"] != "direct"})
        outputs = {o: f"{OUTPUTS_FOLDER}/{o}" for o in step["outputs"]}
        upstream = {i["name"]: self._output_hash(i["step"], i["output"]) for i in step["inputs"]}
        command = job["command"]
        sweep = step.get("hyperdrive")
        key = step_reuse_key(step, self.parameters, upstream, datasets)
        resume_from = None
        if step["allow_reuse"] and not self.definition.get("regenerate_outputs"):
            found = reuse.find_reusable(self.store, key)
            if found is not None and step["kind"] == "parallel" and not reuse.parallel_finished(self.store, found):
                found = None  # some of its mini batches did not succeed: resumed below, not reused
            if found is not None:
                return self._record_reused(name, found)
            if step["kind"] == "parallel":
                resume_from = reuse.find_parallel_resumable(self.store, self.workspace, key)
        variables = dict(job["environment_variables"])
        for data_name, path in {**inputs, **outputs}.items():  # Azure ML's variables for a step's data
            variables.setdefault(f"AZUREML_DATAREFERENCE_{data_name}", path)
        environment = Environment(**job["environment"]) if job["environment"] else None
        step_inputs = [{"run_id": self.holder[i["step"]], "prefix": f"{OUTPUTS_FOLDER}/{i['output']}/",
                        "folder": inputs[i["name"]]} for i in step["inputs"]] + datasets
        if resume_from is not None:  # only the mini batches that run did not finish run now; see _parallel
            resume_inputs, resume_variables = reuse.parallel_resume_inputs(resume_from)
            step_inputs += resume_inputs
            variables.update(resume_variables)
            self.log(f"step {name!r}: resumes run {resume_from['run_id']}: its {resume_from['unfinished']} "
                     f"unfinished mini batch(es) run again, the others are carried over")
        if sweep:
            return self._start_sweep(name, sweep, key, variables, inputs, outputs, step_inputs)
        run = submit_job(
            self.experiment, source_directory=None, snapshot_hash=job["snapshot_hash"], script=job["script"],
            command=fill(command, self.parameters, inputs, outputs) if isinstance(command, list) else command,
            arguments=fill(job["arguments"], self.parameters, inputs, outputs), environment=environment,
            compute_target=job["target"], environment_variables=variables,
            max_run_duration_seconds=job["max_run_duration_seconds"], tags={}, display_name=name,
            properties={reuse.KEY_PROPERTY: key, "azureml.nodeid": name}, parent_id=self.run_id,
            distributed=job["distributed"], max_retries=job["max_retries"], resources=job["resources"],
            inputs=step_inputs, output_folders=list(outputs.values()), notes=job.get("notes"))
        self.running[name] = run.id
        self.holder[name] = run.id
        self.log(f"step {name!r}: submitted as run {run.id} on {job['target']!r}")

    def _start_sweep(self, name: str, sweep: dict[str, Any], key: str, variables: dict[str, str],
                     inputs: dict[str, str], outputs: dict[str, str], step_inputs: list[dict[str, Any]]) -> None:
        """A HyperDriveStep: a sweep run whose trials are the step's job with the sweep's values."""
        from ..hyperdrive.config import start_sweep
        job = self.steps[name]["job"]
        command = job["command"]
        trial = {"snapshot_hash": job["snapshot_hash"], "script": job["script"],
                 "command": fill(command, self.parameters, inputs, outputs) if isinstance(command, list) else command,
                 "arguments": fill(job["arguments"], self.parameters, inputs, outputs),
                 "environment": job["environment"], "target": job["target"], "environment_variables": variables,
                 "max_run_duration_seconds": job["max_run_duration_seconds"], "distributed": job["distributed"],
                 "max_retries": job["max_retries"], "resources": job["resources"], "inputs": step_inputs,
                 "output_folders": list(outputs.values()), **({"notes": job["notes"]} if job.get("notes") else {})}
        run = start_sweep(self.experiment, {**sweep, "trial": {"kind": "job", "job": trial}}, tags={},
                          display_name=name, properties={reuse.KEY_PROPERTY: key, "azureml.nodeid": name},
                          parent_run_id=self.run_id)
        self.running[name] = run.id
        self.holder[name] = run.id
        self.log(f"step {name!r}: sweep submitted as run {run.id} ({sweep['max_total_runs']} trial(s) at most, "
                 f"{sweep['max_concurrent_runs']} at a time, on {job['target']!r})")

    def _start_automl(self, name: str) -> None:
        """An AutoMLStep: an AutoML run, a child of this one, whose driver writes the step's
        outputs (the model, the metrics) when it ends; its data read from an earlier step's
        output first where it comes from one."""
        from ..automl.config import AutoMLConfig, start_automl
        from ..compute.local_env import submitting_interpreter
        step = self.steps[name]
        spec = step["automl"]
        definition = spec.get("definition")
        if definition is None:
            source = next(i for i in step["inputs"] if i["name"] == spec["training_input"])
            frame = self._read_table(self.holder[source["step"]], source["output"], spec["training_format"])
            config = AutoMLConfig._from_arguments(spec["arguments"], frame)
            definition = config._definition(self.workspace, f"{self.experiment.name}-{name}")
            self.log(f"step {name!r}: training data from step {source['step']!r} ({len(frame)} rows) registered as "
                     f"dataset {definition['training_data']['name']!r} version {definition['training_data']['version']}")
        definition = {**definition, "step_outputs": spec["outputs"]}
        document = {"automl": {k: v for k, v in definition.items() if k != "warning"}, "python": submitting_interpreter()}
        key = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
        if step["allow_reuse"] and not self.definition.get("regenerate_outputs"):
            found = reuse.find_reusable(self.store, key)
            if found is not None:
                return self._record_reused(name, found)
        run = start_automl(self.experiment, definition, tags={}, display_name=name,
                           properties={reuse.KEY_PROPERTY: key, "azureml.nodeid": name}, parent_run_id=self.run_id)
        self.running[name] = run.id
        self.holder[name] = run.id
        self.log(f"step {name!r}: AutoML run {run.id} submitted ({definition['max_total_runs']} iteration(s) at most, "
                 f"{definition['max_concurrent_runs']} at a time)")

    def _read_table(self, holder: str, output: str, format: dict[str, Any]) -> Any:
        """An earlier step's output, read as one table (its files, in order)."""
        from ..data import tabular
        prefix = f"{OUTPUTS_FOLDER}/{output}/"
        names = sorted(n for n in self.workspace._artifacts.list(holder) if n.startswith(prefix))
        if not names:
            raise ConfigError(f"step output {output!r} holds no files to read as a table")
        files = []
        for item in names:
            path = self.workspace._artifacts.path(holder, item)
            files.append((item[len(prefix):], str(path), f"{output}/{item[len(prefix):]}", Path(path).read_bytes()))
        return tabular.read(format, files)

    def _best_trial(self, name: str, sweep_run: str) -> str | None:
        """A HyperDriveStep's holder of outputs: its sweep's best trial (None: no trial logged
        the primary metric)."""
        from ..run import Run
        best = Run._from_id(self.workspace, sweep_run).get_best_run_by_primary_metric(include_resume_from_runs=False)
        return best.id if best is not None else None

    def _record_reused(self, name: str, found: dict[str, Any]) -> None:
        from ..run import new_run_id
        now = time.time()
        row = self.store.create_run({
            "run_id": new_run_id(self.experiment.name), "experiment": self.experiment.name,
            "parent_id": self.run_id, "display_name": name, "run_type": found["run_type"],
            "status": st.COMPLETED, "target": found["target"], "definition": found["definition"],
            "environment_name": found["environment_name"], "environment_version": found["environment_version"],
            "environment_hash": found["environment_hash"], "snapshot_hash": found["snapshot_hash"],
            "start_time": now, "end_time": now, "exit_code": found["exit_code"],
        }, properties={reuse.IS_REUSED_PROPERTY: "true", reuse.REUSED_RUN_PROPERTY: found["run_id"],
                       reuse.REUSED_PIPELINE_RUN_PROPERTY: found["parent_id"], "azureml.nodeid": name})
        # the reused run's metrics, so the step of this pipeline run reads as the one it stands for
        self.store.log_metrics([{**m, "run_id": row["run_id"]} for m in self.store.get_metric_rows([found["run_id"]])])
        self.holder[name] = found["run_id"]
        if self.steps[name].get("hyperdrive"):
            self.holder[name] = self._best_trial(name, found["run_id"]) or found["run_id"]
        self.ended[name] = st.COMPLETED
        self.log(f"step {name!r}: reused run {found['run_id']} (recorded as {row['run_id']})")
        self._register_outputs(name, row["run_id"])

    def _register_outputs(self, name: str, step_run: str) -> None:
        """Copy the step's outputs that have a ``destination`` to their datastores, and register
        those marked ``register_on_complete`` as dataset versions whose producing run is the run
        that wrote them; an output that cannot be copied or registered fails the step."""
        from ..data.dataset import register_run_output
        holder = self.holder[name]
        for item in self.steps[name].get("destinations", []):
            try:
                where = self._copy_output(holder, item,
                                          overwrite=item["output"] not in self.steps[name].get("destinations_kept", []))
            except Exception as e:
                return self._fail_completed(name, step_run, f"its output {item['output']!r} could not be copied "
                                                            f"to datastore {item['datastore']!r}", e)
            self.log(f"step {name!r}: output {item['output']!r} copied to datastore {item['datastore']!r} "
                     f"at {where}")
        for item in self.steps[name].get("register", []):
            try:
                dataset = register_run_output(self.workspace, holder, f"{OUTPUTS_FOLDER}/{item['output']}", item)
                self.store.record_lineage(holder, "output", "dataset", dataset.name, dataset.version,
                                          label=item["output"])
            except Exception as e:  # the step fails: an output it was to register is missing
                return self._fail_completed(name, step_run, f"its output {item['output']!r} could not be "
                                                            f"registered as dataset {item['name']!r}", e)
            self.log(f"step {name!r}: output {item['output']!r} registered as dataset {item['name']!r} "
                     f"version {dataset.version}")

    def _fail_completed(self, name: str, step_run: str, what: str, error: Exception) -> None:
        """A step that completed but whose outputs could not be kept as asked: Failed, saying why."""
        traceback.print_exc()
        message = f"{what}: {type(error).__name__}: {error}"
        self.store.set_status(step_run, st.FAILED, allow_from_terminal=True, error=message)
        self.ended[name] = st.FAILED
        self.log(f"step {name!r}: {message}")

    def _copy_output(self, holder: str, item: dict[str, str], overwrite: bool = True) -> str:
        """The files ``holder`` kept as output ``item["output"]``, copied to its destination
        (``{run-id}``: the run that wrote them; files there are kept unless ``overwrite``); the
        path they went to."""
        from ..data import Datastore
        prefix = f"{OUTPUTS_FOLDER}/{item['output']}/"
        names = [n for n in self.workspace._artifacts.list(holder) if n.startswith(prefix)]
        if not names:
            raise ValueError("the step wrote no files to it")
        files = [self.workspace._artifacts.path(holder, n) for n in names]
        root = self.workspace._artifacts.run_dir(holder) / OUTPUTS_FOLDER / item["output"]
        path = item["path"].replace("{run-id}", holder).replace("{output-name}", item["output"])
        Datastore.get(self.workspace, item["datastore"]).upload_files(files, relative_root=root, target_path=path,
                                                                     overwrite=overwrite, show_progress=False)
        return path

    def _record_not_run(self, name: str, status: str, reason: str) -> None:
        from ..run import new_run_id
        now = time.time()
        self.store.create_run({
            "run_id": new_run_id(self.experiment.name), "experiment": self.experiment.name,
            "parent_id": self.run_id, "display_name": name,
            "run_type": "command" if self.steps[name]["kind"] == "command" else "script",
            "status": status, "target": self.steps[name]["job"]["target"],
            "end_time": now, "error": reason,
        }, properties={"azureml.nodeid": name})
        self.ended[name] = status
        self.not_run.append(name)
        self.log(f"step {name!r}: {status} ({reason})")

    def _output_hash(self, step: str, output: str) -> str:
        holder = self.holder[step]
        if (holder, output) not in self.hashes:
            self.hashes[(holder, output)] = reuse.output_hash(self.workspace, holder, output)
        return self.hashes[(holder, output)]

    def _target(self, name: str) -> Any:
        from ..compute import get_target
        return get_target(self.workspace, self.steps[name]["job"]["target"])

    # -- the end -----------------------------------------------------------------------
    def _stop_running(self) -> None:
        for name, step_run in self.running.items():
            try:
                self._target(name).cancel(step_run)
            except Exception:  # keep stopping the others
                traceback.print_exc()

    def _cancel(self) -> None:
        self.log("cancel requested: stopping the running steps")
        self._stop_running()
        deadline = time.monotonic() + _CANCEL_WAIT_S
        while self.running and time.monotonic() < deadline:
            self._poll()
            time.sleep(0.1)
        for name in list(self.pending):
            self.pending.remove(name)
            self._record_not_run(name, st.CANCELED, "not run: the pipeline run was canceled")
        self.store.set_status(self.run_id, st.CANCELED)
        self.log("pipeline run Canceled")

    def _finish(self) -> None:
        failed = [n for n in self.order if self.ended.get(n) == st.FAILED and n not in self.not_run]
        skipped = [n for n in self.order if n in self.not_run]
        if failed or skipped:
            error = (f"{len(failed)} step(s) failed: {', '.join(map(repr, failed))}"
                     + (f"; not run: {', '.join(map(repr, skipped))}" if skipped else ""))
            for name in failed:
                row = self.store.list_runs(parent_id=self.run_id, properties={"azureml.nodeid": name}, limit=1)
                if row and row[0]["error"]:
                    error += f"\nstep {name!r}: {row[0]['error']}"
            # the log's last line first: whoever follows the log stops reading once the run has ended
            self.log(f"pipeline run Failed: {error.splitlines()[0]}")
            self.store.set_status(self.run_id, st.FAILED, error=error)
            return
        self.log("pipeline run Completed")
        self.store.set_status(self.run_id, st.COMPLETED)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


if __name__ == "__main__":
    from ..compute import local
    # a supervisor per step, forked with runyard imported: no interpreter start per step
    local.FORKSERVER = local.Forkserver(["runyard.compute._supervisor", "runyard.workspace", "runyard.store.sql",
                                         "runyard.environment"])
    _Driver(sys.argv[1], sys.argv[2]).main()
