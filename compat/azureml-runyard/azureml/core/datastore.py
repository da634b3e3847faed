"""Azure's ``azureml.core.datastore``."""

from runyard.data import Datastore

__all__ = ['Datastore']
