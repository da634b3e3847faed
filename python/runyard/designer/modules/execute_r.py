"""Execute R Script: the script's azureml_main(dataframe1, dataframe2) returns a list of up to
two data.frames, as Azure ML's designer had it. The tables go to R and back as CSV files (R
needs no Parquet package)."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from _frames import read_frame, script_arguments, write_frame

DRIVER = r'''
args <- commandArgs(trailingOnly = TRUE)
read <- function(path) if (nzchar(path)) utils::read.csv(path, check.names = FALSE, stringsAsFactors = FALSE) else NULL
env <- new.env()
sys.source(args[[1]], envir = env)
if (!exists("azureml_main", envir = env, inherits = FALSE)) stop("the script defines no function azureml_main(dataframe1, dataframe2)")
results <- env$azureml_main(read(args[[2]]), read(args[[3]]))
if (is.data.frame(results)) results <- list(results)
results <- Filter(Negate(is.null), results)
if (length(results) == 0) stop("azureml_main returned no data.frame")
for (i in seq_len(min(2, length(results)))) utils::write.csv(results[[i]], args[[3 + i]], row.names = FALSE)
'''

args = script_arguments()
rscript = shutil.which("Rscript")
if rscript is None:
    raise SystemExit("Execute R Script needs R on the machine that runs the step: Rscript is not on its PATH")
with tempfile.TemporaryDirectory() as tmp:
    folder = Path(tmp)
    inputs = []
    for n, port in enumerate((args.dataframe1, args.dataframe2), 1):
        frame = read_frame(port)
        if frame is None:
            inputs.append("")
            continue
        frame.to_csv(folder / f"in{n}.csv", index=False)
        inputs.append(str(folder / f"in{n}.csv"))
    (folder / "driver.R").write_text(DRIVER)
    outputs = [folder / "out1.csv", folder / "out2.csv"]
    done = subprocess.run([rscript, str(folder / "driver.R"), args.script, *inputs, *map(str, outputs)])
    if done.returncode != 0:
        raise SystemExit(f"the R script failed (exit status {done.returncode})")
    for path, target in zip(outputs, (args.result1, args.result2)):
        write_frame(pd.read_csv(path) if path.is_file() else pd.DataFrame(), target)
