"""The job of a ParallelRunStep: ``python -m runyard.pipeline._parallel --settings JSON
[--dataset NAME PATH|direct | --folder NAME PATH]... [--side NAME PATH]... [--output PATH] --
ARGUMENTS...`` (``--side``: an input every worker gets whole).

This process is the coordinator: it plans the mini batches (``batches``), starts the workers
(``pool``: processes here, on the local target or in the run's container; ``ray_pool``: Ray
actors on the cluster's nodes, with ``"workers": "ray"`` in the settings; ``r_workers``: R
processes for an entry script in R), hands each ready worker the next mini batch (and, while
more are left than there are workers, one more to wait behind it, so that no worker waits for
the coordinator), writes the models the workers register in bulk (``models``), and applies the
config's failure
settings as Azure ML defined them: a ``run()`` that raises, returns a wrong value, outlives
``run_invocation_timeout`` (its worker is killed) or whose worker dies is a failed try, and
the mini batch goes back to the queue until it has had ``run_max_try`` tries; then it is
failed. A dead or killed worker is replaced. The thresholds (``error_threshold``,
``allowed_failed_count``, ``allowed_failed_percent``) end the step as soon as one is
exceeded. At the end it writes the append_row file (results in mini batch order), the
partition table (``table``) and one summary line; the step fails when a threshold was
exceeded, else it completes.

``RUNYARD_PARALLEL_RESUME`` (set by the pipeline driver) names a folder holding an earlier
run's partition table (``table/``) and output folder (``output/``): its succeeded mini
batches are not run again; their results and output files are carried over.
"""

from __future__ import annotations

import sys

RESUME_ENV = "RUNYARD_PARALLEL_RESUME"


def main(argv: list[str]) -> int:
    from ...errors import RunyardError
    from .coordinator import Coordinator, StepFailed, parse_arguments
    options = parse_arguments(argv)
    try:
        return Coordinator(options).run()
    except (StepFailed, RunyardError) as e:  # a threshold, or data that cannot be read into mini batches
        sys.stdout.flush()
        print(f"Error: {e}", file=sys.stderr, flush=True)
        return 1
