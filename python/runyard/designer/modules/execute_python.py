"""Execute Python Script: the script's azureml_main(dataframe1, dataframe2) returns up to two
data frames (a frame, or a tuple of them), as Azure ML's designer had it."""

import runpy

import pandas as pd

from _frames import read_frame, script_arguments, write_frame

args = script_arguments()
main = runpy.run_path(args.script).get("azureml_main")
if not callable(main):
    raise SystemExit(f"{args.script} defines no function azureml_main(dataframe1, dataframe2)")
results = main(read_frame(args.dataframe1), read_frame(args.dataframe2))
if isinstance(results, pd.DataFrame):
    results = (results,)
results = [r for r in (results or ()) if r is not None][:2]
if not results:
    raise SystemExit("azureml_main returned no data frame")
for result, folder in zip((*results, pd.DataFrame()), (args.result1, args.result2)):
    write_frame(result, folder)
