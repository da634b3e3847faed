// A pipeline run's graph: each step a box in the column its longest path from a first step
// puts it in, edges from the steps it waits for, coloured by where the step stands (read
// again every few seconds while the pipeline runs). A step (its box, or its name from the
// keyboard) leads to its run, or to the run whose outputs it reused.
import { Handle, Position, ReactFlow, useNodesState, type Node, type NodeProps } from "@xyflow/react";
import { useEffect } from "react";
import "@xyflow/react/dist/style.css";
import { api, type PipelineStep } from "./api";
import { formatDuration } from "./format";
import { layout } from "./pipelineLayout";
import { href } from "./route";
import { StatusBadge } from "./StatusBadge";
import { useFetch } from "./useFetch";
import { useRefreshWhile } from "./useRefreshWhile";

const LIVE_REFRESH_MS = 2000;
const COLUMN_WIDTH = 240;
const ROW_HEIGHT = 90;

type StepNode = Node<{ step: PipelineStep }, "step">;

function StepBox({ data: { step } }: NodeProps<StepNode>) {
  const runId = step.reused_run_id ?? step.run_id;
  const status = step.reused_run_id ? "Reused" : step.status;
  const took = step.duration_seconds === null ? "" : formatDuration(0, step.duration_seconds);
  return (
    <div className="step-box" title={step.error ?? undefined}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="step-name">{runId ? <a href={href.run(runId)}>{step.name}</a> : step.name}</div>
      <div className="step-meta"><StatusBadge status={status} /> <span className="muted">{took}</span></div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { step: StepBox };

export function PipelineGraph({ runId, live }: { runId: string; live: boolean }) {
  const steps = useFetch(() => api.pipelineSteps(runId), runId);
  useRefreshWhile(live, LIVE_REFRESH_MS, steps.reload);
  // the flow keeps each node's measured size on it: a node given again without one would stay
  // hidden until it is measured again, which a box that keeps its size never is
  const [nodes, setNodes, onNodesChange] = useNodesState<StepNode>([]);
  useEffect(() => {
    if (!steps.data) return;
    const byName = new Map(steps.data.map((step) => [step.name, step]));
    const { placed } = layout(steps.data);
    setNodes((shown) => placed.map(({ name, column, row }) => ({
      ...shown.find((node) => node.id === name),
      id: name, type: "step", position: { x: column * COLUMN_WIDTH, y: row * ROW_HEIGHT },
      data: { step: byName.get(name)! }, ariaLabel: `step ${name}`,
    })));
  }, [steps.data, setNodes]);

  if (steps.error) return <p role="alert" className="error">{steps.error}</p>;
  if (!steps.data) return <p className="muted">Loading steps…</p>;
  const byName = new Map(steps.data.map((step) => [step.name, step]));
  const { placed, edges } = layout(steps.data);
  const rows = Math.max(1, ...placed.map((step) => step.row + 1));
  return (
    <figure className="pipeline-graph" aria-label="Pipeline graph" style={{ height: Math.min(600, 60 + rows * ROW_HEIGHT) }}>
      <ReactFlow nodes={nodes} onNodesChange={onNodesChange} nodeTypes={nodeTypes} fitView fitViewOptions={{ maxZoom: 1 }}
                 edges={edges.map(({ from, to }) => ({
                   id: `${from}->${to}`, source: from, target: to,
                   animated: byName.get(to)?.status === "Running",
                 }))}
                 onNodeClick={(_, node) => {
                   const step = byName.get(node.id);
                   const stepRun = step?.reused_run_id ?? step?.run_id;
                   if (stepRun) window.location.hash = href.run(stepRun);
                 }}
                 nodesDraggable={false} nodesConnectable={false} elementsSelectable={false}
                 zoomOnScroll={false} preventScrolling={false} />
    </figure>
  );
}
