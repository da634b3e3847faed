"""Azure's ``azureml.train.dnn``."""

from runyard.estimators import Chainer, PyTorch, TensorFlow

__all__ = ['Chainer', 'PyTorch', 'TensorFlow']
