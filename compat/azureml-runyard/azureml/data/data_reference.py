"""Azure's ``azureml.data.data_reference``: a datastore path a run reads (runyard's file dataset
of that path, consumed by name; see ``runyard.data.references``)."""

from runyard.data.references import DataReference

__all__ = ['DataReference']
