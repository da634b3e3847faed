"""Azure's ``azureml.pipeline`` (see ``azureml.pipeline.core`` and ``azureml.pipeline.steps``)."""
