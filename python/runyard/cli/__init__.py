"""The ``runyard`` command (click + rich). Exit codes: 0 done, 1 the run or build failed,
2 bad input, 3 not found, 4 the run was canceled, 130 interrupted."""
