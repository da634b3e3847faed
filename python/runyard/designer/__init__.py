"""The designer: pipelines drawn from a palette of modules, saved as pipeline YAML.

``catalogue`` holds the modules (Azure ML designer's: Dataset, Enter Data Manually, Select
Columns, Clean Missing Data, Split Data, Normalize Data, Train Model, Score Model, Evaluate
Model, Execute Python Script, Execute R Script, and AutoML) with typed ports and parameters; ``modules/``
their scripts; ``document`` the graph, its checks, and the folder it is saved as, which
``runyard pipeline submit -f FOLDER/pipeline.yml`` runs unchanged. The studio's canvas and
the server's ``/api/v1/designer`` routes use these.
"""

from .catalogue import LEARNERS, MODULES, Module, Param, Port
from .document import DesignerFolder, Edge, Graph, Node, Problem, problems, validate, with_defaults

__all__ = ["LEARNERS", "MODULES", "Module", "Param", "Port", "DesignerFolder", "Edge", "Graph", "Node", "Problem",
           "problems", "validate", "with_defaults"]
