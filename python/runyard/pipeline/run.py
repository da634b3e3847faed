"""``PipelineRun``: the run of a pipeline; its steps are its child runs.

>>> run = experiment.submit(pipeline)  # doctest: +SKIP
>>> run.wait_for_completion(show_output=True)  # doctest: +SKIP
>>> [step.display_name for step in run.get_steps()]  # doctest: +SKIP
['prep', 'train', 'evaluate']
"""

from __future__ import annotations

from ..run import Run
from . import reuse


class PipelineRun(Run):
    """A run of type ``pipeline``: status, wait and cancel as for any run, plus its steps.

    Its driver process (see ``runyard.pipeline._driver``) is its supervisor: ``cancel()``
    stops it, and it stops the running steps.
    """

    def get_steps(self) -> list[Run]:
        """The step runs, in the order they were started (reused and not-run steps included)."""
        return self.get_children()

    def find_step_run(self, name: str) -> list[Run]:
        """The step runs of the step called ``name`` (a list, as in Azure ML)."""
        return [step for step in self.get_children() if step.display_name == name]

    def get_step_reuse(self) -> dict[str, str | None]:
        """Step name -> the run it reused, or None for a step that ran."""
        return {step.display_name: step.get_properties().get(reuse.REUSED_RUN_PROPERTY)
                for step in self.get_children()}
