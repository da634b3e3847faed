// A drawing on the designer's canvas: the palette, the canvas, the selected node's side panel
// (or the pipeline's settings), and the toolbar that saves it as pipeline YAML, submits it
// (each node then shows its step's live state) and publishes it. A name not saved yet opens
// an empty canvas; saving creates it.
import {
  Background, Controls, ReactFlow, ReactFlowProvider, addEdge, useEdgesState, useNodesState, useReactFlow,
  type Connection, type Edge, type EdgeChange, type FinalConnectionState, type NodeChange,
} from "@xyflow/react";
import { useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import "@xyflow/react/dist/style.css";
import {
  ApiError, api, errorMessage, type DesignerEdge, type Drawing, type ModuleSpec, type Palette as PaletteData,
  type ParamValue, type Problem,
} from "../api";
import { href } from "../route";
import { StatusBadge } from "../StatusBadge";
import { useDocumentTitle } from "../useDocumentTitle";
import { useFetch } from "../useFetch";
import { connectionProblem, edgeId } from "./connections";
import { designerEdge, flowEdge, flowNodes, nodeLabel, toGraph, type ModuleNode as ModuleNodeType } from "./drawing";
import { ModuleNode, NodeFindings } from "./ModuleNode";
import { NodePanel } from "./NodePanel";
import { PipelineSettings } from "./PipelineSettings";
import { MODULE_DRAG_TYPE, Palette } from "./Palette";
import { freeSpot, newNodeId } from "./placement";
import { useLiveRun } from "./useLiveRun";

const nodeTypes = { module: ModuleNode };

export function DesignerPage({ name }: { name: string }) {
  useDocumentTitle(`Designer ${name}`);
  const palette = useFetch(api.palette, "palette");
  const drawing = useFetch(() => api.drawing(name).catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 404) return null; // not saved yet: a new drawing
    throw e;
  }), name);
  const error = palette.error ?? drawing.error;
  if (error) return <p role="alert" className="error">{error}</p>;
  if (!palette.data || drawing.data === undefined) return <p className="muted">Loading the designer…</p>;
  return (
    <ReactFlowProvider>
      <Editor key={name} name={name} palette={palette.data} saved={drawing.data} />
    </ReactFlowProvider>
  );
}

function Editor({ name, palette, saved }: { name: string; palette: PaletteData; saved: Drawing | null }) {
  const modules = useMemo(() => new Map(palette.modules.map((module) => [module.name, module])), [palette]);
  const [nodes, setNodes, onNodesChange] = useNodesState<ModuleNodeType>(saved ? flowNodes(saved.graph, modules) : []);
  const [edges, setEdges, onEdgesChange] = useEdgesState<Edge>(saved ? saved.graph.edges.map(flowEdge) : []);
  const [settings, setSettings] = useState({ description: saved?.graph.description ?? "",
                                             experiment_name: saved?.graph.experiment_name ?? "" });
  const [problems, setProblems] = useState<Problem[]>(saved?.problems ?? []);
  const [savedAs, setSavedAs] = useState(saved ? { path: saved.path, yaml: saved.yaml } : undefined);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState<string | undefined>();
  const [alert, setAlert] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [runId, setRunId] = useState<string | undefined>();
  const [published, setPublished] = useState<{ id: string; name: string; version: string | null } | undefined>();
  const datasets = useFetch(api.datasets, "datasets");
  const { screenToFlowPosition } = useReactFlow();
  const focusNext = useRef<string | undefined>(undefined);

  const { run, steps } = useLiveRun(runId);

  const graphEdges = edges.map(designerEdge);
  const moduleOf = (id: string) => nodes.find((node) => node.id === id)?.data.module;
  const changed = () => {
    setDirty(true);
    setPublished(undefined);
  };

  // closing the tab with unsaved changes asks first...
  useEffect(() => {
    if (!dirty) return;
    const ask = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", ask);
    return () => window.removeEventListener("beforeunload", ask);
  }, [dirty]);

  // and so does following a link of the studio away from the canvas
  useEffect(() => {
    if (!dirty) return;
    const leaving = (event: MouseEvent) => {
      const link = event.target instanceof Element ? event.target.closest("a[href^='#']") : null;
      if (link && !window.confirm("Leave this drawing? Its unsaved changes will be lost.")) event.preventDefault();
    };
    document.addEventListener("click", leaving, true);
    return () => document.removeEventListener("click", leaving, true);
  }, [dirty]);

  // a node added from the keyboard gets the focus once it is drawn (measured, so visible)
  useEffect(() => {
    const id = focusNext.current;
    if (!id) return;
    let tries = 0;
    const timer = window.setInterval(() => {
      const element = document.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(id)}"]`);
      element?.focus();
      if (document.activeElement === element || ++tries > 20) {
        focusNext.current = undefined;
        window.clearInterval(timer);
      }
    }, 50);
    return () => window.clearInterval(timer);
  }, [nodes]);

  const addModule = (module: ModuleSpec, position?: { x: number; y: number }) => {
    const id = newNodeId(module.name, nodes.map((node) => node.id));
    const place = position ?? freeSpot(nodes.map((node) => node.position));
    setNodes((shown) => [...shown.map((node) => ({ ...node, selected: false })), {
      id, type: "module", position: place, selected: true, ariaLabel: nodeLabel(id, module),
      data: { module, params: {} },
    }]);
    if (!position) focusNext.current = id;
    setNotice(`Added ${module.title} as ${id}`);
    changed();
  };

  const connect = (edge: DesignerEdge) => {
    const problem = connectionProblem({ source: edge.source, sourcePort: edge.source_port, target: edge.target,
                                        targetPort: edge.target_port }, moduleOf, graphEdges);
    if (problem) {
      setNotice(`Not connected: ${problem}`);
      return;
    }
    setEdges((shown) => addEdge(flowEdge(edge), shown));
    setNotice(`Connected ${edge.source}.${edge.source_port} to ${edge.target}.${edge.target_port}`);
    changed();
  };
  const asWanted = (c: Connection | Edge) =>
    ({ source: c.source, sourcePort: c.sourceHandle ?? null, target: c.target, targetPort: c.targetHandle ?? null });
  const refused = (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid !== false || !state.fromHandle || !state.toHandle) return;
    const [from, to] = state.fromHandle.type === "source" ? [state.fromHandle, state.toHandle]
                                                          : [state.toHandle, state.fromHandle];
    const why = connectionProblem({ source: from.nodeId, sourcePort: from.id ?? null, target: to.nodeId,
                                    targetPort: to.id ?? null }, moduleOf, graphEdges);
    if (why) setNotice(`Not connected: ${why}`);
  };

  const setParam = (id: string, param: string, value: ParamValue) => {
    setNodes((shown) => shown.map((node) => node.id !== id ? node
      : { ...node, data: { ...node.data, params: { ...node.data.params, [param]: value } } }));
    changed();
  };
  const disconnect = (edge: DesignerEdge) => {
    setEdges((shown) => shown.filter((e) => e.id !== edgeId(edge)));
    setNotice(`Disconnected ${edge.source}.${edge.source_port} from ${edge.target}.${edge.target_port}`);
    changed();
  };
  const removeNode = (id: string) => {
    setNodes((shown) => shown.filter((node) => node.id !== id));
    setEdges((shown) => shown.filter((edge) => edge.source !== id && edge.target !== id));
    setNotice(`Removed ${id}`);
    changed();
  };

  const renameNode = (from: string, to: string) => {
    const rename = (id: string) => (id === from ? to : id);
    setNodes((shown) => shown.map((node) => node.id !== from ? node
      : { ...node, id: to, ariaLabel: nodeLabel(to, node.data.module) }));
    setEdges((shown) => shown.map((edge) => {
      const moved = { ...designerEdge(edge), source: rename(edge.source), target: rename(edge.target) };
      return edge.source === from || edge.target === from ? flowEdge(moved) : edge;
    }));
    setProblems((found) => found.map((problem) => ({ ...problem, node: problem.node && rename(problem.node) })));
    setNotice(`Renamed ${from} to ${to}`);
    changed();
  };

  const nodesChanged = (changes: NodeChange<ModuleNodeType>[]) => {
    onNodesChange(changes);
    if (changes.some((change) => change.type === "position" || change.type === "remove")) changed();
  };
  const edgesChanged = (changes: EdgeChange<Edge>[]) => {
    onEdgesChange(changes);
    if (changes.some((change) => change.type === "remove")) changed();
  };
  const dragOver = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes(MODULE_DRAG_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  };
  const drop = (event: DragEvent) => {
    const module = modules.get(event.dataTransfer.getData(MODULE_DRAG_TYPE));
    if (!module) return;
    event.preventDefault();
    addModule(module, screenToFlowPosition({ x: event.clientX, y: event.clientY }));
  };

  const save = async (): Promise<Drawing | undefined> => {
    setBusy("Saving…");
    setAlert(undefined);
    try {
      const answer = await api.saveDrawing(name, toGraph(nodes, edges, settings));
      setProblems(answer.problems);
      setSavedAs({ path: answer.path, yaml: answer.yaml });
      setDirty(false);
      setNotice(answer.problems.length === 0 ? `Saved as ${answer.path}/pipeline.yml`
                : `Saved with ${answer.problems.length} problem${answer.problems.length > 1 ? "s" : ""}`);
      return answer;
    } catch (e) {
      setAlert(`Not saved: ${errorMessage(e)}`);
      return undefined;
    } finally {
      setBusy(undefined);
    }
  };
  /** save, then (when the saved drawing has no problems) do what `then` does */
  const saveThen = async (doing: string, then: () => Promise<void>) => {
    const answer = await save();
    if (!answer) return;
    if (answer.problems.length > 0) {
      setAlert(`Not ${doing}: the pipeline has problems (listed below and on their nodes)`);
      return;
    }
    setBusy(`${doing.charAt(0).toUpperCase()}${doing.slice(1)}…`);
    try {
      await then();
    } catch (e) {
      setAlert(`Not ${doing}: ${errorMessage(e)}`);
    } finally {
      setBusy(undefined);
    }
  };
  const submit = () => saveThen("submitted", async () => {
    const submitted = await api.submitDrawing(name);
    setRunId(submitted.run_id);
    setNotice(`Submitted as run ${submitted.run_id}`);
  });
  const publish = () => saveThen("published", async () => {
    setPublished(await api.publishDrawing(name));
  });

  /** select a node (from the problems' list) and give it the focus */
  const selectNode = (id: string) => {
    setNodes((shown) => shown.map((node) => ({ ...node, selected: node.id === id })));
    focusNext.current = id;
  };
  const listed = problems.filter((problem) => !problem.node || nodes.some((node) => node.id === problem.node));

  const findings = useMemo(() => ({ problems, steps: new Map((steps.data ?? []).map((step) => [step.name, step])) }),
                           [problems, steps.data]);
  const selected = nodes.filter((node) => node.selected);
  const current = selected.length === 1 ? selected[0] : undefined;
  const datasetNames = [...new Set((datasets.data ?? []).flatMap((d) => [d.name, `${d.name}:${d.version}`]))];
  const nodeModules = nodes.map((node) => ({ id: node.id, module: node.data.module.name }));
  const empty = nodes.length === 0;

  return (
    <section className="designer" aria-label={`Designer ${name}`}>
      <div className="designer-bar">
        <h2>Designer <span className="muted">/</span> {name}</h2>
        <span className={dirty ? "dirty" : "muted"}>
          {dirty ? "Unsaved changes" : savedAs ? "Saved" : "Not saved yet"}
        </span>
        <button type="button" onClick={() => void save()} disabled={busy !== undefined}>Save</button>
        <button type="button" onClick={() => void submit()} disabled={busy !== undefined || empty}>Submit</button>
        <button type="button" onClick={() => void publish()} disabled={busy !== undefined || empty}>Publish</button>
        <a href={href.drawings()}>All drawings</a>
        <span role="status" className="muted notice">{busy ?? notice}</span>
      </div>
      {alert && <p role="alert" className="error">{alert}</p>}
      {runId && (
        <p className="run-line">
          Pipeline run <a href={href.run(runId)}>{runId}</a>{" "}
          {run.data && <StatusBadge status={run.data.status} />}
          {steps.error && <span className="error"> {steps.error}</span>}
        </p>
      )}
      {published && (
        <p className="run-line" role="status">
          Published pipeline <strong>{published.name}</strong>
          {published.version ? ` version ${published.version}` : ""}: id <code>{published.id}</code>
        </p>
      )}
      <div className="designer-body">
        <Palette modules={palette.modules} onAdd={(module) => addModule(module)} />
        <div className="canvas" aria-label="Canvas" role="group">
          <NodeFindings.Provider value={findings}>
            <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} onNodesChange={nodesChanged}
                       onEdgesChange={edgesChanged}
                       onConnect={(c) => c.sourceHandle && c.targetHandle && connect(designerEdge(c as Edge))}
                       onConnectEnd={refused}
                       isValidConnection={(c) => connectionProblem(asWanted(c), moduleOf, graphEdges) === null}
                       onDragOver={dragOver} onDrop={drop} deleteKeyCode={["Backspace", "Delete"]}
                       fitView={saved !== null} fitViewOptions={{ maxZoom: 1 }}>
              <Background />
              <Controls />
            </ReactFlow>
          </NodeFindings.Provider>
          {empty && (
            <p className="canvas-hint muted">Drag modules here from the palette, or press Enter on one to add it.</p>
          )}
        </div>
        <div className="side">
          {current ? (
            <NodePanel id={current.id} data={current.data} problems={problems.filter((p) => p.node === current.id)}
                       nodes={nodeModules} edges={graphEdges} modules={modules} learners={palette.learners} datasets={datasetNames}
                       onParam={(param, value) => setParam(current.id, param, value)} onConnect={connect}
                       onDisconnect={disconnect} onRemove={() => removeNode(current.id)}
                       onRename={(to) => renameNode(current.id, to)} />
          ) : (
            <PipelineSettings settings={settings} onChange={(next) => { setSettings(next); changed(); }}
                              savedAs={savedAs} />
          )}
        </div>
      </div>
      {listed.length > 0 && (
        <section className="problems" aria-label="Problems">
          <h3>Problems</h3>
          <ul>
            {listed.map((problem, k) => (
              <li key={k}>
                {problem.node && (
                  <><button type="button" className="link" onClick={() => selectNode(problem.node!)}
                            aria-label={`Select ${problem.node}`}>{problem.node}</button>: </>
                )}
                {problem.message}
              </li>
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}
