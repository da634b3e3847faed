"""Azure's ``azureml.train``: estimators, HyperDrive and AutoML."""
