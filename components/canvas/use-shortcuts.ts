'use client';
import { useEffect, useRef } from 'react';

// The editor's keyboard shortcuts. Ctrl/Cmd+S works everywhere; the others stay out of the way
// while the user types in a field or a dialog is open.

export interface ShortcutActions {
  save(): void;
  undo(): void;
  redo(): void;
  duplicate(): void;
  copy(): void;
  paste(): void;
  focusSearch(): void;
  showHelp(): void;
}

/** What the shortcut sheet (`?`) lists: keys and what they do. */
export const SHORTCUTS: [keys: string, does: string][] = [
  ['Ctrl/⌘ + S', 'Save a new version'],
  ['Ctrl/⌘ + Z', 'Undo'],
  ['Ctrl/⌘ + Shift + Z, Ctrl/⌘ + Y', 'Redo'],
  ['Ctrl/⌘ + C / V', 'Copy / paste the selected steps'],
  ['Ctrl/⌘ + D', 'Duplicate the selected steps'],
  ['Delete, Backspace', 'Delete the selection'],
  ['/', 'Search the node palette'],
  ['↑ / ↓, Enter, Esc', 'In the palette search: pick, add beside the selected step, leave'],
  ['Shift + click', 'Select more than one'],
  ['?', 'Show this sheet'],
];

const isTyping = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));

export function useEditorShortcuts(actions: ShortcutActions) {
  // One listener for the editor's life; it always calls the latest actions.
  const latest = useRef(actions);
  useEffect(() => {
    latest.current = actions;
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const a = latest.current;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 's') {
        e.preventDefault();
        a.save();
        return;
      }
      if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
      if (mod && key === 'z') {
        e.preventDefault();
        if (e.shiftKey) a.redo();
        else a.undo();
      } else if (mod && key === 'y') {
        e.preventDefault();
        a.redo();
      } else if (mod && key === 'd') {
        e.preventDefault();
        a.duplicate();
      } else if (mod && key === 'c') {
        a.copy();
      } else if (mod && key === 'v') {
        e.preventDefault();
        a.paste();
      } else if (!mod && e.key === '/') {
        e.preventDefault();
        a.focusSearch();
      } else if (!mod && e.key === '?') {
        e.preventDefault();
        a.showHelp();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
