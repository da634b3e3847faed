"""Azure's ``azureml.widgets``: ``RunDetails(run).show()``, a live view of a run (a refreshing
table in Jupyter, a text view in a terminal; see ``runyard.run_details``)."""

from runyard.run_details import RunDetails

__all__ = ['RunDetails']
