/** A JSON object (not an array, not null): what loosely typed config and documents are read as. */
export type Rec = Record<string, unknown>;

export const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
