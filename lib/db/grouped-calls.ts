// Group commit for single-row writes: calls made while a write is in flight wait and go together
// in the next one, so a burst of N calls costs a few statements instead of N in a row, and a lone
// call goes at once (no timer, no added wait).

/**
 * `many` writes a group in one statement and answers per item (same order); when it throws, each
 * item of the group is tried alone with `one`, so one bad item fails only its own call.
 */
export function groupedCalls<T, R>(opts: {
  one: (item: T) => Promise<R>;
  many: (items: T[]) => Promise<R[]>;
  /** Items per group, at most. */
  max: number;
}): (item: T) => Promise<R> {
  type Waiting = { item: T; resolve: (r: R) => void; reject: (e: unknown) => void };
  let waiting: Waiting[] = [];
  let busy = false;
  const alone = async (w: Waiting) => {
    try {
      w.resolve(await opts.one(w.item));
    } catch (err) {
      w.reject(err);
    }
  };
  const drain = async () => {
    busy = true;
    while (waiting.length) {
      const group = waiting.slice(0, opts.max);
      waiting = waiting.slice(group.length);
      if (group.length === 1) {
        await alone(group[0]);
        continue;
      }
      let results: R[] | undefined;
      try {
        results = await opts.many(group.map((w) => w.item));
      } catch {
        for (const w of group) await alone(w);
      }
      if (results) group.forEach((w, i) => w.resolve(results[i]));
    }
    busy = false;
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!busy) void drain();
    });
}
