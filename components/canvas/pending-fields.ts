'use client';
import { useSyncExternalStore } from 'react';

// JSON fields whose text does not parse: it is not applied to the document, so it must not vanish
// silently. Each one counts as an unsaved change and a problem until fixed, survives its panel
// closing (the text comes back when the field is shown again), and Save warns about it.

export interface PendingField {
  /** The field's element id (schema-form fieldId, or a fixed id outside nodes). */
  id: string;
  label: string;
  text: string;
  error: string;
  nodeId?: string;
}

type Listener = () => void;

class PendingFields {
  private byId = new Map<string, PendingField>();
  private listeners = new Set<Listener>();
  private list: PendingField[] = [];

  get(id: string): PendingField | undefined {
    return this.byId.get(id);
  }
  set(field: PendingField) {
    this.byId.set(field.id, field);
    this.changed();
  }
  clear(id: string) {
    if (this.byId.delete(id)) this.changed();
  }
  /** Forget every pending field (another workflow opened, or the user chose to drop them). */
  reset() {
    if (!this.byId.size) return;
    this.byId.clear();
    this.changed();
  }
  private changed() {
    this.list = [...this.byId.values()];
    this.listeners.forEach((l) => l());
  }
  snapshot = () => this.list;
  subscribe = (l: Listener) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
}

export const pendingFields = new PendingFields();

const EMPTY: PendingField[] = [];
export function usePendingFields(): PendingField[] {
  return useSyncExternalStore(pendingFields.subscribe, pendingFields.snapshot, () => EMPTY);
}
