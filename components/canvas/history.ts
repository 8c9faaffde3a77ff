// Undo/redo as a list of definition snapshots (JSON strings). Snapshots are simple and make
// every kind of change undoable, including ones added later, at the cost of memory that
// HISTORY_LIMIT bounds.

/** Most undo steps kept; older ones are dropped. */
export const HISTORY_LIMIT = 200;
/** Edits with the same key within this window merge into one undo step (typing a URL is one step). */
export const COALESCE_MS = 1000;

export class SnapshotHistory {
  private stack: string[];
  private index = 0;
  private lastKey: string | null = null;
  private lastAt = 0;

  constructor(initial: string) {
    this.stack = [initial];
  }

  get current(): string {
    return this.stack[this.index];
  }
  get canUndo(): boolean {
    return this.index > 0;
  }
  get canRedo(): boolean {
    return this.index < this.stack.length - 1;
  }
  get size(): number {
    return this.stack.length;
  }

  /** Record a new state; returns false when it equals the current one. */
  push(snap: string, key: string | null = null, now = Date.now()): boolean {
    if (snap === this.stack[this.index]) return false;
    if (key && key === this.lastKey && now - this.lastAt < COALESCE_MS && this.index > 0 && !this.canRedo) {
      this.stack[this.index] = snap;
    } else {
      this.stack = this.stack.slice(0, this.index + 1);
      this.stack.push(snap);
      if (this.stack.length > HISTORY_LIMIT) this.stack.shift();
      this.index = this.stack.length - 1;
    }
    this.lastKey = key;
    this.lastAt = now;
    return true;
  }

  undo(): string | null {
    if (!this.canUndo) return null;
    this.index--;
    this.lastKey = null;
    return this.stack[this.index];
  }

  redo(): string | null {
    if (!this.canRedo) return null;
    this.index++;
    this.lastKey = null;
    return this.stack[this.index];
  }
}
