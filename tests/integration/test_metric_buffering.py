"""Metrics logged in a tight loop all arrive; a job stopped by SIGTERM keeps what it logged."""

from __future__ import annotations

from runyard import ScriptRunConfig
from runyard import status as st


def test_twenty_thousand_metrics_in_a_tight_loop(experiment, project):
    src = project({"many.py": """\
        from runyard import Run
        run = Run.get_context()
        for i in range(20_000):
            run.log("step", i)
        """})
    run = experiment.submit(ScriptRunConfig(str(src), script="many.py"))
    run.wait_for_completion()
    assert run.get_metrics(name="step")["step"] == list(range(20_000))


def test_metrics_survive_a_cancel_thanks_to_the_sigterm_flush(experiment, project, wait_for, compute_target):
    # The once-a-second flusher is pushed out of the way, so only the SIGTERM handler
    # can write these 500 rows (fewer than a batch) before the process ends.
    src = project({"stopped.py": """\
        import time
        import runyard.metrics
        runyard.metrics.FLUSH_INTERVAL_S = 3600
        from runyard import Run
        run = Run.get_context()
        for i in range(500):
            run.log("step", i)
        print("logged", flush=True)
        time.sleep(60)
        """})
    run = experiment.submit(ScriptRunConfig(str(src), script="stopped.py", compute_target=compute_target))
    wait_for(lambda: "logged" in run.get_log(), what="the job to log its metrics")
    assert run.get_metrics() == {}  # still buffered in the job
    run.cancel()
    assert run.wait_for_completion()["status"] == st.CANCELED
    assert run.get_metrics(name="step")["step"] == list(range(500))
