# The notebook cells of an Azure ML SDK v1 project, unchanged: open the workspace named in
# .azureml/config.json, get or create a cluster, submit src/train.py, read its metrics and
# register its model. With azureml-runyard installed this runs on this machine.
from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException

ws = Workspace.from_config()
print("Workspace:", ws.name, ws.resource_group, ws.location, sep="\n")

cluster_name = "cpu-cluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print("Found existing cluster, use it.")
except ComputeTargetException:
    compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
compute_target.wait_for_completion(show_output=True)

env = Environment("diabetes-env")
env.python.user_managed_dependencies = True   # the Python this driver runs in, with scikit-learn

src = ScriptRunConfig(source_directory="src", script="train.py", arguments=["--alpha", 0.5],
                      compute_target=compute_target, environment=env)
run = Experiment(workspace=ws, name="diabetes-v1").submit(src)
run.wait_for_completion(show_output=True)

print(run.get_metrics())
model = run.register_model(model_name="diabetes-ridge", model_path="outputs/ridge.pkl")
print("Registered", model.name, "version", model.version)
