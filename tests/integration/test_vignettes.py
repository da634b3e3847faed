"""The vignettes knit: each R Markdown file in vignettes/ renders with real runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from runyard.compute.local_env import submitting_interpreter

VIGNETTES = sorted((Path(__file__).resolve().parents[2] / "vignettes").glob("*.Rmd"))


def test_there_are_vignettes():
    assert {v.stem for v in VIGNETTES} >= {"train-from-r", "r-and-python", "mixed-pipeline"}


@pytest.mark.parametrize("vignette", VIGNETTES, ids=lambda p: p.stem)
def test_vignette_knits(vignette: Path, tmp_path: Path):
    env = dict(os.environ, RETICULATE_PYTHON=submitting_interpreter())
    code = (f"rmarkdown::render({str(vignette)!r}, output_dir = {str(tmp_path)!r}, "
            f"intermediates_dir = {str(tmp_path)!r}, quiet = TRUE)")
    result = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (tmp_path / f"{vignette.stem}.html").read_text()
    for snippet in EXPECTED.get(vignette.stem, []):
        assert snippet in html, f"{vignette.name}: {snippet!r} not in the rendered page"


# Output that only appears when the runs really happened.
EXPECTED = {
    "train-from-r": ["Status: Completed", "outputs/lm_degree_4.rds", "degree 4: rmse",
                     '<img src="data:image/png',  # the base-R plot, embedded in the page
                     "REstimator"],  # the estimator section's run
    "r-and-python": ["Python", "fit.R"],
    "mixed-pipeline": ["test_r2 : chr",  # the model's tag, which the register step set from the metric
                       "diabetes-lm:1", "diabetes-lm:2",  # registered, then registered again with a new test_size
                       "fit in R reused pipeline-mixed_"],  # the resubmission reused the R step's run
}
