"""The process that runs one HyperDrive sweep: ``python -m runyard.hyperdrive._driver WS RUN_ID``.

Started detached when the sweep is submitted. It proposes each trial's values
with the sweep's sampling, skipping values already tried by this sweep or the
sweeps it resumes (so no trial runs twice), and runs each as a child run: its
command with the values written where it says ``${{search_space.name}}``, else
the script's arguments plus ``--name value`` per hyperparameter
(``trial_command``); or the pipeline with those parameter values. Trials of
``resume_child_runs`` go first, each restarted from its checkpoint. Warm-start
trials (those of ``resume_from`` sweeps) are told to the sampler before
anything is proposed.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .. import status as st
from ._sweep import HYPERPARAMETERS, TRIAL_INDEX, SweepDriver, Trial, logged_values, trial_name
from .config import DRIVER_LOG
from .sampling import HyperParameterSampling, key
from .trial_command import trial_command

#: proposals in a row that were all tried before: the space has nothing new left
_MAX_REPEATS = 1000


class HyperDriveDriver(SweepDriver):
    driver_log = DRIVER_LOG

    def setup(self) -> None:
        self.sampling = HyperParameterSampling.from_json(self.definition["sampling"])
        self.proposer = self.sampling.proposer(self.maximize, self.max_trials)
        self.trial = self.definition["trial"]
        self.taken: set[str] = set()
        self.next_index = 0
        self.to_resume: list[tuple[dict[str, Any], str]] = []
        self.warm_start()

    def warm_start(self) -> None:
        """What the ``resume_from`` sweeps tried: never tried again, and told to the sampler."""
        resume_children = set(self.definition.get("resume_child_runs", []))
        told = 0
        for sweep in self.definition.get("resume_from", []):
            rows = self.store.list_runs(parent_id=sweep)
            metrics = logged_values(self.store, rows, self.metric)
            for row in rows:
                text = self.store.get_properties(row["run_id"]).get(HYPERPARAMETERS)
                if not text:
                    continue
                values = json.loads(text)
                self.taken.add(key(values))
                if row["run_id"] in resume_children:
                    self.to_resume.append((values, row["run_id"]))
                elif row["status"] == st.COMPLETED:
                    trace = metrics.get(row["run_id"])
                    self.proposer.tell(values, (max if self.maximize else min)(trace) if trace else None)
                    told += 1
        if self.definition.get("resume_from"):
            self.log(f"warm start from {len(self.definition['resume_from'])} sweep(s): {len(self.taken)} earlier "
                     f"trial(s) not tried again, {told} told to the sampler, {len(self.to_resume)} to resume")

    def next_trial(self) -> tuple[dict[str, Any], Any] | None:
        if self.to_resume:
            return self.to_resume.pop(0)
        for _ in range(_MAX_REPEATS):
            values = self.proposer.propose(self.next_index)
            self.next_index += 1
            if values is None:
                return None
            if key(values) not in self.taken:
                self.taken.add(key(values))
                return values, None
            self.proposer.tell(values, None)  # a repeat: not run
        self.log(f"the last {_MAX_REPEATS} proposals had all been tried: the search space is used up")
        return None

    def start_trial(self, index: int, values: dict[str, Any], resume_from: Any) -> str:
        text = json.dumps(values)
        name = trial_name(self.run_id, index)
        tags = {HYPERPARAMETERS: text}
        properties = {HYPERPARAMETERS: text, TRIAL_INDEX: str(index),
                      **({"resumed_from": resume_from} if resume_from else {})}
        if self.trial["kind"] == "pipeline":
            from ..pipeline.pipeline import start_run
            definition = dict(self.trial["pipeline"])
            definition["parameters"] = {**definition["parameters"], **values}
            return start_run(self.experiment, definition, tags=tags, display_name=name, properties=properties,
                             parent_run_id=self.run_id).id
        job = self.trial["job"]
        command, arguments = trial_command(job["command"], job["arguments"], values)
        return self.submit_job_trial(job, command, arguments, tags=tags, display_name=name, properties=properties,
                                     resume_from=resume_from)

    def trial_ended(self, trial: Trial) -> None:
        if trial.status == st.COMPLETED or trial.status == st.FAILED:
            self.proposer.tell(trial.values, trial.best(self.maximize) if trial.status == st.COMPLETED else None)


if __name__ == "__main__":
    from ..compute import local
    # a supervisor per trial, forked with runyard imported: no interpreter start per trial
    local.FORKSERVER = local.Forkserver(["runyard.compute._supervisor", "runyard.workspace", "runyard.store.sql",
                                         "runyard.environment"])
    HyperDriveDriver(sys.argv[1], sys.argv[2]).main()
