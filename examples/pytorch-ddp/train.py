"""Linear regression with PyTorch DistributedDataParallel: each process trains on its shard.

Started by runyard with a PyTorchConfiguration (or `distribution: pytorch` in job.yml):
every process finds MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE in its environment.
Rank 0 logs the loss to the run and saves the model to ./outputs. Submitted with
resume_from=<an earlier run>, every process starts from that run's outputs/model.pt.
"""

import argparse
import gc
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()

dist.init_process_group(os.environ.get("RUNYARD_COMMUNICATION_BACKEND", "gloo"))
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)
true_w = torch.tensor([[2.0], [-3.0], [0.5]])
x = torch.randn(1024, 3)
y = x @ true_w + 0.01 * torch.randn(1024, 1)
shard = slice(rank, None, world)  # every process its own rows
module = torch.nn.Linear(3, 1)
resume = os.environ.get("RUNYARD_RESUME_FROM")  # set when the run resumes from another
if resume and os.path.exists(os.path.join(resume, "model.pt")):
    module.load_state_dict(torch.load(os.path.join(resume, "model.pt")))
model = DistributedDataParallel(module)
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
run = Run.get_context()
for epoch in range(args.epochs):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x[shard]), y[shard])
    loss.backward()  # gradients are averaged over every process here
    optimizer.step()
    total = loss.detach().clone()
    dist.all_reduce(total)
    if rank == 0:
        run.log("loss", total.item() / world)
if rank == 0:
    run.log("world_size", world)
    run.log("resumed", int(bool(resume)))
    os.makedirs("outputs", exist_ok=True)
    torch.save(model.module.state_dict(), "outputs/model.pt")
    print("learned", model.module.weight.data.flatten().tolist())
# Free DDP before the process group: with torch 2.13, a DDP model left to interpreter exit
# aborts about one exit in 30 ("terminate called without an active exception").
del model, optimizer
gc.collect()
dist.barrier()  # every process done before any tears the group down
dist.destroy_process_group()
