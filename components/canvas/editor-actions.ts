'use client';
import { createContext, useContext } from 'react';

// Actions node components may trigger, provided once by the editor; a stable object so memoized
// nodes never re-render because the editor did (callbacks stay out of node.data, STYLE.md §6).
export interface EditorActions {
  setNoteText(noteFlowId: string, text: string): void;
  /** The `+` on an output handle: the next step added (palette click or Enter) connects from it. */
  addFrom(nodeId: string, handle: string): void;
}

export const EditorActionsContext = createContext<EditorActions>({
  setNoteText: () => {},
  addFrom: () => {},
});
export const useEditorActions = () => useContext(EditorActionsContext);
