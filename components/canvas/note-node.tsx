'use client';
import { memo } from 'react';
import { NodeResizer, type NodeProps } from '@xyflow/react';
import type { NoteFlowNode } from './types';
import { useEditorActions } from './editor-actions';

function NoteNodeView({ id, data, selected }: NodeProps<NoteFlowNode>) {
  const actions = useEditorActions();
  return (
    <div className="h-full min-h-24 w-full min-w-40 rounded-md border border-amber-200 bg-amber-50 p-2 shadow-sm">
      <NodeResizer isVisible={selected} minWidth={160} minHeight={96} color="#f59e0b" />
      <textarea
        aria-label="Sticky note text"
        className="nodrag nowheel h-full min-h-20 w-full resize-none bg-transparent text-xs text-amber-900 outline-none placeholder:text-amber-400"
        placeholder="Write a note…"
        value={data.text}
        onChange={(e) => actions.setNoteText(id, e.target.value)}
      />
    </div>
  );
}

export const NoteNode = memo(NoteNodeView);
