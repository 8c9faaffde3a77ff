'use client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import Link from 'next/link';
import {
  addEdge,
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useEdgesState,
  useNodesState,
  useReactFlow,
  type Connection,
  type IsValidConnection,
  type NodeTypes,
} from '@xyflow/react';
import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { api, ApiError, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Spinner } from '@/components/ui/spinner';
import { StatusBadge } from '@/components/ui/status-badge';
import { isSignedOut, SignInLink } from '@/components/ui/signed-out';
import { readClipboard, rekey, writeClipboard } from './clipboard';
import { ConfigPanel, type LastRunView } from './config-panel';
import {
  edgeToFlow,
  NOTE_PREFIX,
  splitMeta,
  stepToFlow,
  toDefinition,
  toFlow,
  type DefinitionMeta,
} from './convert';
import { EditorActionsContext, type EditorActions } from './editor-actions';
import { fieldForPath, nodeIdForPath, outputsFor, uniqueId, upstreamOf, wouldCycle } from './graph';
import { SnapshotHistory } from './history';
import { layoutPositions } from './layout';
import { NoteNode } from './note-node';
import { nodeStatusStore, useStatusVersion } from './node-status-store';
import { DND_MIME, Palette } from './palette';
import { ProblemsPanel, type ProblemRow } from './problems-panel';
import { RunDialog } from './run-dialog';
import { fieldId, JsonField } from './schema-form';
import { StepNode } from './step-node';
import type {
  FlowEdge,
  FlowNode,
  JsonSchema,
  NodeTypeInfo,
  Problem,
  StepData,
  StepFlowNode,
  WorkflowRecord,
} from './types';
import { useRun } from './use-run';
import { CatalogContext, useNodeTypes } from './use-node-types';
import { VersionsDialog } from './versions-dialog';

// Module scope: a new object per render would make React Flow remount every node.
const nodeTypes: NodeTypes = { step: StepNode, note: NoteNode };
const SNAP: [number, number] = [16, 16];
const VALIDATE_DEBOUNCE_MS = 350;
/** Above this many nodes the canvas renders only what is on screen and opens on the first nodes. */
const LARGE_GRAPH = 200;
/** The minimap redraws every node on every frame; past this size it costs more than it shows. */
const MINIMAP_MAX_NODES = 500;

const isTyping = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));

export function WorkflowEditor({ workflowId, version }: { workflowId: string; version?: number }) {
  const { types, error: typesError, retry } = useNodeTypes();
  const [record, setRecord] = useState<WorkflowRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [signedOut, setSignedOut] = useState(false);

  useEffect(() => {
    let live = true;
    const load = async (): Promise<WorkflowRecord> => {
      const latest = await api<WorkflowRecord>(`/api/workflows/${workflowId}`);
      if (!version || version === latest.version) return latest;
      const old = await api<{ version: number; definition: WorkflowRecord['definition'] }>(
        `/api/workflows/${workflowId}/versions/${version}`,
      );
      return { ...latest, version: old.version, definition: old.definition };
    };
    load().then(
      (r) => live && setRecord(r),
      (e) => {
        if (!live) return;
        setSignedOut(isSignedOut(e));
        setError(
          e instanceof ApiError && e.status === 404 ? 'This workflow does not exist.' : errorMessage(e),
        );
      },
    );
    return () => {
      live = false;
    };
  }, [workflowId, version]);

  if (error || typesError) {
    return (
      <div className="grid flex-1 place-items-center">
        <div
          role="alert"
          className="max-w-sm rounded-lg border border-red-200 bg-white p-6 text-center shadow-sm"
        >
          <p className="text-sm font-medium text-red-700">
            {signedOut ? 'You are signed out' : 'Could not open the editor'}
          </p>
          <p className="mt-1 text-xs text-slate-500">{error ?? typesError}</p>
          <div className="mt-4 flex items-center justify-center gap-3">
            {signedOut && <SignInLink />}
            <Link href="/workflows" className="text-xs font-medium text-slate-600 hover:underline">
              Back to workflows
            </Link>
            {typesError && (
              <Button size="sm" onClick={retry}>
                Retry
              </Button>
            )}
          </div>
        </div>
      </div>
    );
  }
  if (!record || !types) {
    return (
      <div className="grid flex-1 place-items-center">
        <Spinner label="Opening workflow" />
      </div>
    );
  }
  return (
    <ReactFlowProvider>
      <EditorLoaded key={`${record.id}@${record.version}`} record={record} types={types} />
    </ReactFlowProvider>
  );
}

function EditorLoaded({ record, types }: { record: WorkflowRecord; types: NodeTypeInfo[] }) {
  const workflowId = record.id;
  const catalog = useMemo(() => new Map(types.map((t) => [t.type, t])), [types]);
  const initial = useMemo(() => toFlow(record.definition), [record]);
  const [nodes, setNodes, onNodesChange] = useNodesState<FlowNode>(initial.nodes);
  const [edges, setEdges, onEdgesChange] = useEdgesState<FlowEdge>(initial.edges);
  // A big graph opens on its first nodes at a readable zoom: fitting 1,000 nodes would render
  // every one of them at a size nobody can read (and defeat onlyRenderVisibleElements).
  const initialFit = useMemo(
    () => ({
      padding: 0.2,
      maxZoom: 1,
      ...(initial.nodes.length > LARGE_GRAPH
        ? { nodes: initial.nodes.slice(0, 30).map((n) => ({ id: n.id })) }
        : {}),
    }),
    [initial],
  );
  const [meta, setMeta] = useState<DefinitionMeta>(() => splitMeta(record.definition));
  const [version, setVersion] = useState(record.version);
  const rf = useReactFlow<FlowNode, FlowEdge>();
  const paletteSearch = useRef<HTMLInputElement>(null);
  const canvasRef = useRef<HTMLDivElement>(null);
  const [toast, setToast] = useState<{ text: string; tone: 'ok' | 'error' } | null>(null);
  const notify = useCallback((text: string, tone: 'ok' | 'error' = 'ok') => setToast({ text, tone }), []);
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(null), 3500);
    return () => clearTimeout(t);
  }, [toast]);

  // The status store is module-wide: a run or problems of the previously open workflow must not
  // light up nodes that happen to share ids here.
  useEffect(() => {
    nodeStatusStore.resetRun([]);
    nodeStatusStore.setProblems(new Map());
  }, [workflowId]);

  const dragging = useMemo(() => nodes.some((n) => n.dragging), [nodes]);

  // ---- history: snapshots of the definition; dragging frames and selection are not changes.
  const [history] = useState(
    () =>
      new SnapshotHistory(
        JSON.stringify(toDefinition(splitMeta(record.definition), initial.nodes, initial.edges)),
      ),
  );
  const coalesceKey = useRef<string | null>(null);
  const [savedSnap, setSavedSnap] = useState(() => history.current);
  const [currentSnap, setCurrentSnap] = useState(() => history.current);

  // Drag frames skip this: the definition is rebuilt once the drag ends, not 60 times a second.
  useEffect(() => {
    if (dragging) return;
    const snap = JSON.stringify(toDefinition(meta, nodes, edges));
    const key = coalesceKey.current;
    coalesceKey.current = null;
    if (history.push(snap, key)) setCurrentSnap(snap);
  }, [meta, nodes, edges, dragging, history]);
  /** The document as of the last settled change (what save, run and export use). */
  const definition = useMemo(() => JSON.parse(currentSnap) as WorkflowDefinition, [currentSnap]);

  const load = useCallback(
    (def: WorkflowDefinition, keepSelection = true) => {
      const selected = new Set(
        keepSelection
          ? rf
              .getNodes()
              .filter((n) => n.selected)
              .map((n) => n.id)
          : [],
      );
      const flow = toFlow(def);
      setMeta(splitMeta(def));
      setNodes(flow.nodes.map((n) => (selected.has(n.id) ? { ...n, selected: true } : n)));
      setEdges(flow.edges);
    },
    [rf, setEdges, setNodes],
  );

  const travel = useCallback(
    (snap: string | null) => {
      if (snap === null) return;
      setCurrentSnap(snap);
      load(JSON.parse(snap));
    },
    [load],
  );
  const undo = useCallback(() => travel(history.undo()), [history, travel]);
  const redo = useCallback(() => travel(history.redo()), [history, travel]);
  // currentSnap changes whenever the history moves, so these stay fresh.
  const canUndo = currentSnap !== undefined && history.canUndo;
  const canRedo = currentSnap !== undefined && history.canRedo;
  const dirty = currentSnap !== savedSnap;

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  // ---- validation: the server's validate() is the one source of truth (it knows every node schema).
  const [problems, setProblems] = useState<Problem[]>([]);
  const [validated, setValidated] = useState<WorkflowDefinition>(record.definition);
  const validatedNodes = validated.nodes;
  const [validation, setValidation] = useState<'ok' | 'checking' | 'unavailable'>('checking');
  useEffect(() => {
    const ctrl = new AbortController();
    const def = JSON.parse(currentSnap) as WorkflowDefinition;
    const t = setTimeout(() => {
      setValidation('checking');
      api<{ valid: boolean; problems: Problem[] }>('/api/validate', {
        method: 'POST',
        body: def,
        signal: ctrl.signal,
      }).then(
        (r) => {
          setProblems(r.problems ?? []);
          setValidated(def);
          setValidation('ok');
        },
        (e) => {
          if ((e as Error).name === 'AbortError') return;
          // A 400 with problems is still an answer.
          const ps =
            (e instanceof ApiError && (e.details as { problems?: Problem[] } | undefined)?.problems) || null;
          if (ps) {
            setProblems(ps);
            setValidated(def);
            setValidation('ok');
          } else setValidation('unavailable');
        },
      );
    }, VALIDATE_DEBOUNCE_MS);
    return () => {
      clearTimeout(t);
      ctrl.abort();
    };
  }, [currentSnap]);

  const problemRows: ProblemRow[] = useMemo(
    () =>
      problems.map((p) => {
        const nodeId = nodeIdForPath(p.path, validatedNodes);
        const n = validatedNodes.find((x) => x.id === nodeId);
        return { ...p, nodeId, nodeName: n ? n.name || n.id : undefined };
      }),
    [problems, validatedNodes],
  );
  useEffect(() => {
    const counts = new Map<string, number>();
    for (const p of problemRows) if (p.nodeId) counts.set(p.nodeId, (counts.get(p.nodeId) ?? 0) + 1);
    nodeStatusStore.setProblems(counts);
  }, [problemRows]);

  // ---- editing
  const takenIds = useCallback(() => new Set(rf.getNodes().map((n) => n.id)), [rf]);

  const viewportCenter = useCallback(() => {
    const r = canvasRef.current?.getBoundingClientRect();
    if (!r) return { x: 0, y: 0 };
    const p = rf.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
    return { x: p.x - 120, y: p.y - 40 };
  }, [rf]);

  const addStep = useCallback(
    (type: string, position?: { x: number; y: number }) => {
      const info = catalog.get(type);
      if (!info) return;
      const id = uniqueId(type.replace(/^trigger\./, '').replace(/\./g, '_'), takenIds());
      const node: WorkflowNode = {
        id,
        type,
        position: position ?? viewportCenter(),
        config: structuredClone(info.defaultConfig ?? {}),
      };
      setNodes((ns) => [
        ...ns.map((n) => (n.selected ? { ...n, selected: false } : n)),
        { ...stepToFlow(node), selected: true },
      ]);
    },
    [catalog, setNodes, takenIds, viewportCenter],
  );

  const addNote = useCallback(() => {
    const id = uniqueId('note', new Set(rf.getNodes().map((n) => n.id.slice(NOTE_PREFIX.length))));
    setNodes((ns) => [
      ...ns,
      {
        id: NOTE_PREFIX + id,
        type: 'note',
        position: viewportCenter(),
        data: { text: '' },
        ariaLabel: 'Sticky note',
        width: 200,
        height: 120,
      },
    ]);
  }, [rf, setNodes, viewportCenter]);

  const updateStep = useCallback(
    (id: string, update: (s: StepData) => StepData) => {
      coalesceKey.current = `step:${id}`;
      setNodes((ns) =>
        ns.map((n) => {
          if (n.id !== id || n.type !== 'step') return n;
          const step = update((n as StepFlowNode).data.step);
          return { ...n, data: { step }, ariaLabel: step.name || step.id } as StepFlowNode;
        }),
      );
    },
    [setNodes],
  );

  const actions: EditorActions = useMemo(
    () => ({
      setNoteText: (noteId, text) => {
        coalesceKey.current = `note:${noteId}`;
        setNodes((ns) => ns.map((n) => (n.id === noteId ? ({ ...n, data: { text } } as FlowNode) : n)));
      },
    }),
    [setNodes],
  );

  const isValidConnection: IsValidConnection<FlowEdge> = useCallback(
    (c) => {
      if (!c.source || !c.target || c.source === c.target) return false;
      const target = rf.getNode(c.target);
      const source = rf.getNode(c.source);
      if (!target || !source || target.type !== 'step' || source.type !== 'step') return false;
      const info = catalog.get((target as StepFlowNode).data.step.type);
      if (info && !info.hasInput) return false;
      const current = rf.getEdges();
      const handle = c.sourceHandle ?? 'out';
      if (
        current.some(
          (e) => e.source === c.source && e.target === c.target && (e.sourceHandle ?? 'out') === handle,
        )
      )
        return false;
      return !wouldCycle(current, c.source, c.target);
    },
    [catalog, rf],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const taken = new Set(rf.getEdges().map((e) => e.id));
      const id = uniqueId(`e_${c.source}_${c.target}`, taken);
      setEdges((es) =>
        addEdge(
          edgeToFlow({ id, source: c.source, target: c.target, sourceHandle: c.sourceHandle ?? undefined }),
          es,
        ),
      );
    },
    [rf, setEdges],
  );

  const selectedSteps = useCallback(
    () => rf.getNodes().filter((n): n is StepFlowNode => n.type === 'step' && !!n.selected),
    [rf],
  );
  const stepsAsDefinition = useCallback(
    (flowNodes: StepFlowNode[]) =>
      flowNodes.map((n) => ({ ...n.data.step, position: n.position }) as WorkflowNode),
    [],
  );

  const insertNodes = useCallback(
    (
      payload: { nodes: WorkflowNode[]; edges: WorkflowDefinition['edges'] },
      offset: { x: number; y: number },
    ) => {
      const taken = new Set([...rf.getNodes().map((n) => n.id), ...rf.getEdges().map((e) => e.id)]);
      const fresh = rekey(payload, taken, offset);
      setNodes((ns) => [
        ...ns.map((n) => (n.selected ? { ...n, selected: false } : n)),
        ...fresh.nodes.map((n) => ({ ...stepToFlow(n), selected: true })),
      ]);
      setEdges((es) => [...es, ...fresh.edges.map(edgeToFlow)]);
      return fresh.nodes.length;
    },
    [rf, setEdges, setNodes],
  );

  const duplicate = useCallback(() => {
    const sel = selectedSteps();
    if (!sel.length) return;
    const ids = new Set(sel.map((n) => n.id));
    insertNodes(
      {
        nodes: stepsAsDefinition(sel),
        edges: definition.edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
      },
      { x: 40, y: 40 },
    );
  }, [definition.edges, insertNodes, selectedSteps, stepsAsDefinition]);

  const copy = useCallback(async () => {
    const sel = selectedSteps();
    if (!sel.length) return;
    await writeClipboard(stepsAsDefinition(sel), definition.edges);
    notify(`Copied ${sel.length} node${sel.length > 1 ? 's' : ''}`);
  }, [definition.edges, notify, selectedSteps, stepsAsDefinition]);

  const paste = useCallback(async () => {
    const payload = await readClipboard();
    if (!payload) return notify('The clipboard holds no Trellis nodes', 'error');
    const n = insertNodes(payload, { x: 40, y: 40 });
    notify(`Pasted ${n} node${n > 1 ? 's' : ''}`);
  }, [insertNodes, notify]);

  const autoLayout = useCallback(() => {
    const steps = rf.getNodes().filter((n) => n.type === 'step');
    const outputs = new Map(
      steps.map((n) => {
        const step = (n as StepFlowNode).data.step;
        return [n.id, outputsFor(step, catalog.get(step.type))];
      }),
    );
    const pos = layoutPositions(
      steps.map((n) => ({ id: n.id, width: n.measured?.width, height: n.measured?.height })),
      rf
        .getEdges()
        .map((e) => ({ ...e, handleRank: outputs.get(e.source)?.indexOf(e.sourceHandle ?? 'out') ?? 0 })),
    );
    setNodes((ns) => ns.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id)! } : n)));
    requestAnimationFrame(() => rf.fitView({ padding: 0.2, duration: 200 }));
  }, [catalog, rf, setNodes]);

  // ---- save
  const [saving, setSaving] = useState(false);
  const save = useCallback(async () => {
    if (saving) return;
    if (!dirty) {
      notify('No changes to save');
      return;
    }
    setSaving(true);
    const snap = JSON.stringify(definition);
    try {
      const r = await api<{ id: string; version: number }>(`/api/workflows/${workflowId}`, {
        method: 'PUT',
        body: { definition, name: definition.name },
      });
      setVersion(r.version);
      setSavedSnap(snap);
      notify(`Saved version ${r.version}`);
    } catch (e) {
      const ps =
        e instanceof ApiError ? (e.details as { problems?: Problem[] } | undefined)?.problems : undefined;
      if (ps) {
        setProblems(ps.map((p) => ({ ...p, path: p.path.replace(/^\/definition(?=\/|$)/, '') })));
        setValidated(definition);
      }
      notify(`Save failed: ${errorMessage(e)}`, 'error');
    } finally {
      setSaving(false);
    }
  }, [definition, dirty, notify, saving, workflowId]);

  // ---- run
  const { runId, runStatus, start } = useRun(workflowId);
  const [runOpen, setRunOpen] = useState(false);
  const [runBusy, setRunBusy] = useState(false);
  const [runError, setRunError] = useState<string | null>(null);
  const startRun = async (input: unknown) => {
    setRunBusy(true);
    setRunError(null);
    try {
      if (dirty) await save();
      await start(
        input,
        definition.nodes.map((n) => n.id),
      );
      setRunOpen(false);
    } catch (e) {
      const ps =
        e instanceof ApiError ? (e.details as { problems?: Problem[] } | undefined)?.problems : undefined;
      if (ps) {
        setProblems(ps.map((p) => ({ ...p, path: p.path.replace(/^\/definition(?=\/|$)/, '') })));
        setValidated(definition);
      }
      setRunError(ps?.length ? `${errorMessage(e)} (see Problems)` : errorMessage(e));
    } finally {
      setRunBusy(false);
    }
  };

  // ---- dialogs
  const [versionsOpen, setVersionsOpen] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);

  const exportJson = useCallback(() => {
    const blob = new Blob([JSON.stringify(definition, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${definition.name.replace(/[^\w-]+/g, '-').toLowerCase() || 'workflow'}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }, [definition]);

  // ---- keyboard
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 's') {
        e.preventDefault();
        void save();
        return;
      }
      if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
      if (mod && key === 'z') {
        e.preventDefault();
        if (e.shiftKey) redo();
        else undo();
      } else if (mod && key === 'y') {
        e.preventDefault();
        redo();
      } else if (mod && key === 'd') {
        e.preventDefault();
        duplicate();
      } else if (mod && key === 'c') {
        void copy();
      } else if (mod && key === 'v') {
        e.preventDefault();
        void paste();
      } else if (!mod && e.key === '/') {
        e.preventDefault();
        paletteSearch.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [copy, duplicate, paste, redo, save, undo]);

  // ---- selection-dependent panel
  const selected = nodes.filter((n) => n.selected);
  const selectedStep =
    selected.length === 1 && selected[0].type === 'step' ? (selected[0] as StepFlowNode) : null;
  const selectedId = selectedStep?.id;

  const suggestions = useMemo(() => {
    if (!selectedId) return [];
    const props = Object.keys(((meta.inputSchema as JsonSchema | undefined)?.properties ?? {}) as object);
    return [
      'input',
      ...props.map((p) => `input.${p}`),
      ...upstreamOf(edges, selectedId).map((id) => `steps.${id}.output`),
    ];
  }, [edges, meta.inputSchema, selectedId]);

  const problemPaths = useMemo(() => {
    const m = new Map<string, string>();
    for (const p of problemRows) if (p.nodeId === selectedId) m.set(fieldForPath(p.path) ?? '', p.message);
    return m;
  }, [problemRows, selectedId]);

  const [workflows, setWorkflows] = useState<{ id: string; name: string }[]>([]);
  useEffect(() => {
    api<{ workflows: { id: string; name: string }[] }>('/api/workflows').then(
      (r) => setWorkflows(r.workflows.filter((w) => w.id !== workflowId)),
      () => setWorkflows([]),
    );
  }, [workflowId]);

  const statusVersion = useStatusVersion();
  const [lastRun, setLastRun] = useState<LastRunView | null>(null);
  const selectedStepId = selectedId ? nodeStatusStore.get(selectedId).stepId : undefined;
  useEffect(() => {
    if (!runId || !selectedStepId) {
      setLastRun(null);
      return;
    }
    let live = true;
    setLastRun({ loading: true });
    api<{ step: { status?: string; input?: unknown; output?: unknown; error?: unknown } }>(
      `/api/runs/${runId}/steps/${selectedStepId}`,
    ).then(
      (r) =>
        live &&
        setLastRun({
          status: r.step.status,
          input: r.step.input,
          output: r.step.output,
          error: r.step.error,
        }),
      (e) => live && setLastRun({ error: errorMessage(e) }),
    );
    return () => {
      live = false;
    };
    // statusVersion: refetch when the selected step finishes.
  }, [runId, selectedStepId, statusVersion]);

  const pickProblem = useCallback(
    (p: ProblemRow) => {
      if (!p.nodeId) {
        const m = /^\/edges\/(\d+)/.exec(p.path);
        const edgeId = m ? validated.edges[Number(m[1])]?.id : undefined;
        if (edgeId) setEdges((es) => es.map((e) => ({ ...e, selected: e.id === edgeId })));
        return;
      }
      setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === p.nodeId })));
      const node = rf.getNode(p.nodeId);
      if (node) {
        const w = node.measured?.width ?? 240;
        const h = node.measured?.height ?? 80;
        void rf.setCenter(node.position.x + w / 2, node.position.y + h / 2, {
          zoom: Math.max(rf.getZoom(), 0.9),
          duration: 250,
        });
      }
      const field = fieldForPath(p.path);
      if (field) {
        // The panel mounts on the next render; focus the field once it exists.
        setTimeout(() => {
          const candidates = [field, field.split('/').slice(0, 2).join('/'), field.split('/')[0]];
          for (const c of candidates) {
            const el = document.getElementById(fieldId(p.nodeId!, c));
            if (el) {
              el.focus();
              break;
            }
          }
        }, 60);
      }
    },
    [validated.edges, rf, setEdges, setNodes],
  );

  const onStepChange = useCallback(
    (u: (s: StepData) => StepData) => {
      if (selectedId) updateStep(selectedId, u);
    },
    [selectedId, updateStep],
  );
  const onPaletteAdd = useCallback((t: string) => addStep(t), [addStep]);

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const type = e.dataTransfer.getData(DND_MIME);
      if (!type) return;
      e.preventDefault();
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addStep(type, { x: p.x - 120, y: p.y - 30 });
    },
    [addStep, rf],
  );

  const stepCount = definition.nodes.length;
  const isEmpty = nodes.length === 0;

  return (
    <CatalogContext.Provider value={catalog}>
      <EditorActionsContext.Provider value={actions}>
        <div className="flex min-h-0 flex-1 flex-col">
          {/* toolbar */}
          <div
            role="toolbar"
            aria-label="Editor"
            className="flex h-12 shrink-0 items-center gap-2 border-b border-slate-200 bg-white px-3"
          >
            <Link
              href="/workflows"
              className="rounded p-1 text-slate-400 hover:bg-slate-100 hover:text-slate-700"
              aria-label="Back to workflows"
            >
              <svg
                viewBox="0 0 20 20"
                className="h-4 w-4"
                fill="none"
                stroke="currentColor"
                strokeWidth="1.8"
                aria-hidden
              >
                <path d="M12 4l-6 6 6 6" />
              </svg>
            </Link>
            <label htmlFor="workflow-name" className="sr-only">
              Workflow name
            </label>
            <input
              id="workflow-name"
              value={meta.name}
              onChange={(e) => {
                coalesceKey.current = 'meta:name';
                setMeta((m) => ({ ...m, name: e.target.value }));
              }}
              className="h-8 w-64 rounded-md border border-transparent px-2 text-sm font-semibold hover:border-slate-200 focus:border-brand-500 focus:outline-none"
            />
            <span
              className="rounded bg-slate-100 px-1.5 py-0.5 text-[11px] font-medium text-slate-600"
              title="Saved version"
            >
              v{version}
            </span>
            <span className={`text-xs ${dirty ? 'text-amber-600' : 'text-slate-400'}`} aria-live="polite">
              {dirty ? 'Unsaved changes' : 'All changes saved'}
            </span>
            <div className="mx-2 h-5 w-px bg-slate-200" />
            <Button size="sm" variant="ghost" onClick={undo} disabled={!canUndo} title="Undo (Ctrl+Z)">
              Undo
            </Button>
            <Button size="sm" variant="ghost" onClick={redo} disabled={!canRedo} title="Redo (Ctrl+Shift+Z)">
              Redo
            </Button>
            <Button size="sm" variant="ghost" onClick={autoLayout} disabled={!stepCount}>
              Auto-layout
            </Button>
            <Button size="sm" variant="ghost" onClick={addNote}>
              Add note
            </Button>
            <div className="ml-auto flex items-center gap-2">
              {runStatus && (
                <span
                  className="flex items-center gap-1.5 text-xs text-slate-500"
                  aria-label={`Run ${runStatus}`}
                >
                  Run <StatusBadge status={runStatus} />
                  {runId && (
                    <Link href={`/runs/${runId}`} className="text-brand-700 hover:underline">
                      trace
                    </Link>
                  )}
                </span>
              )}
              <Button size="sm" variant="ghost" onClick={() => setSettingsOpen(true)}>
                Settings
              </Button>
              <Button size="sm" variant="ghost" onClick={() => setVersionsOpen(true)}>
                History
              </Button>
              <Button size="sm" variant="ghost" onClick={exportJson}>
                Export
              </Button>
              <Button
                size="sm"
                onClick={() => void save()}
                disabled={saving}
                title="Save a new version (Ctrl+S)"
              >
                {saving ? 'Saving…' : 'Save'}
              </Button>
              <Button
                size="sm"
                variant="primary"
                onClick={() => {
                  setRunError(null);
                  setRunOpen(true);
                }}
                disabled={!stepCount}
              >
                <svg viewBox="0 0 20 20" className="h-3 w-3" fill="currentColor" aria-hidden>
                  <path d="M6 4l10 6-10 6z" />
                </svg>
                Run
              </Button>
            </div>
          </div>

          <div className="flex min-h-0 flex-1">
            <Palette ref={paletteSearch} types={types} onAdd={onPaletteAdd} />
            <div className="flex min-w-0 flex-1 flex-col">
              <div
                ref={canvasRef}
                className="relative min-h-0 flex-1"
                onDragOver={(e) => {
                  if (e.dataTransfer.types.includes(DND_MIME)) {
                    e.preventDefault();
                    e.dataTransfer.dropEffect = 'move';
                  }
                }}
                onDrop={onDrop}
              >
                <ReactFlow<FlowNode, FlowEdge>
                  aria-label="Workflow canvas"
                  nodes={nodes}
                  edges={edges}
                  nodeTypes={nodeTypes}
                  onNodesChange={onNodesChange}
                  onEdgesChange={onEdgesChange}
                  onConnect={onConnect}
                  isValidConnection={isValidConnection}
                  snapToGrid
                  snapGrid={SNAP}
                  fitView
                  fitViewOptions={initialFit}
                  minZoom={0.1}
                  deleteKeyCode={['Backspace', 'Delete']}
                  multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
                  defaultEdgeOptions={{ type: 'default' }}
                  onlyRenderVisibleElements={nodes.length > LARGE_GRAPH}
                  proOptions={{ hideAttribution: true }}
                >
                  <Background variant={BackgroundVariant.Dots} gap={16} size={1} color="#cbd5e1" />
                  {!isEmpty && nodes.length <= MINIMAP_MAX_NODES && (
                    <MiniMap
                      pannable
                      zoomable
                      ariaLabel="Minimap"
                      style={{ width: 160, height: 110 }}
                      nodeColor={(n) => (n.type === 'note' ? '#fde68a' : '#94a3b8')}
                      className="!rounded-md !border !border-slate-200"
                    />
                  )}
                  <Controls showInteractive={false} fitViewOptions={{ padding: 0.2, duration: 200 }} />
                </ReactFlow>
                {isEmpty && (
                  <div className="pointer-events-none absolute inset-0 grid place-items-center">
                    <div className="rounded-xl border border-dashed border-slate-300 bg-white/80 px-8 py-6 text-center backdrop-blur-sm">
                      <p className="text-sm font-medium text-slate-700">This workflow is empty</p>
                      <p className="mt-1 text-xs text-slate-500">
                        Drag a trigger from the palette onto the canvas, or press{' '}
                        <kbd className="rounded border border-slate-300 px-1">/</kbd> to search.
                      </p>
                    </div>
                  </div>
                )}
                {toast && (
                  <div
                    role="status"
                    className={`absolute top-3 left-1/2 -translate-x-1/2 rounded-md px-3 py-1.5 text-xs font-medium shadow-lg ${
                      toast.tone === 'ok' ? 'bg-slate-900 text-white' : 'bg-red-600 text-white'
                    }`}
                  >
                    {toast.text}
                  </div>
                )}
              </div>
              <ProblemsPanel problems={problemRows} status={validation} onPick={pickProblem} />
            </div>
            {selectedStep && (
              <ConfigPanel
                key={selectedStep.id}
                step={selectedStep.data.step}
                info={catalog.get(selectedStep.data.step.type)}
                onChange={onStepChange}
                suggestions={suggestions}
                problemPaths={problemPaths}
                workflows={workflows}
                lastRun={lastRun}
                workflowId={workflowId}
              />
            )}
          </div>
        </div>

        <RunDialog
          open={runOpen}
          schema={meta.inputSchema as JsonSchema | undefined}
          onClose={() => setRunOpen(false)}
          onRun={(input) => void startRun(input)}
          busy={runBusy}
          error={runError}
        />
        <VersionsDialog
          open={versionsOpen}
          workflowId={workflowId}
          current={definition}
          onClose={() => setVersionsOpen(false)}
          onRestore={(def, v) => {
            load(def, false);
            setVersionsOpen(false);
            notify(`Restored version ${v} into the editor; save to make it the newest version`);
          }}
        />
        <Dialog open={settingsOpen} title="Workflow settings" onClose={() => setSettingsOpen(false)}>
          <div className="space-y-3">
            <div>
              <label
                htmlFor="workflow-description"
                className="mb-1 block text-[11px] font-medium text-slate-600"
              >
                Description
              </label>
              <textarea
                id="workflow-description"
                rows={2}
                className="w-full rounded-md border border-slate-300 px-2 py-1 text-xs"
                value={meta.description ?? ''}
                onChange={(e) => {
                  coalesceKey.current = 'meta:description';
                  setMeta((m) => ({ ...m, description: e.target.value || undefined }));
                }}
              />
            </div>
            <JsonField
              id="workflow-input-schema"
              label="Input schema"
              rows={8}
              value={meta.inputSchema}
              onCommit={(v) =>
                setMeta((m) => ({
                  ...m,
                  inputSchema: (v ?? undefined) as Record<string, unknown> | undefined,
                }))
              }
            />
            <p className="text-[11px] text-slate-400">
              A JSON Schema for the run input; the Run dialog builds its form from it.
            </p>
          </div>
        </Dialog>
      </EditorActionsContext.Provider>
    </CatalogContext.Provider>
  );
}
