// The scripted model's graduation answer (scenario `graduate`): it reads the recorded cases the
// way a model would and writes a real rule, so a graduation test runs the true path (prompt →
// answer → schema check → backtest). The rule: the most frequent output is the default; every
// other output gets the word its inputs share that the fewest other inputs contain (the longest
// on a tie). Where the mapping is a keyword rule this reproduces it; where it is not, the rule it
// writes disagrees on some cases, and the backtest says how many.

interface RecordedCase {
  input: unknown;
  output: unknown;
}

const wordsOf = (v: unknown) =>
  new Set(
    JSON.stringify(v)
      .toLowerCase()
      .match(/[a-z]+/g) ?? [],
  );

export function keywordRule(prompt: string): { nodeType: 'code'; config: { code: string } } {
  let cases: RecordedCase[] = [];
  try {
    cases = (JSON.parse(prompt) as { cases?: RecordedCase[] }).cases ?? [];
  } catch {
    /* no cases: the rule returns the input */
  }
  if (!cases.length) return { nodeType: 'code', config: { code: 'return input;' } };
  const groups = new Map<string, Set<string>[]>();
  for (const c of cases) {
    const key = JSON.stringify(c.output);
    groups.set(key, [...(groups.get(key) ?? []), wordsOf(c.input)]);
  }
  const ranked = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  const [fallback] = ranked[0];
  const lines: string[] = [];
  for (const [output, inputs] of ranked.slice(1)) {
    const others = ranked.filter(([o]) => o !== output).flatMap(([, i]) => i);
    let best: { word: string; covered: number; elsewhere: number } | null = null;
    for (const word of new Set(inputs.flatMap((w) => [...w]))) {
      const covered = inputs.filter((w) => w.has(word)).length;
      const elsewhere = others.filter((w) => w.has(word)).length;
      const better =
        !best ||
        covered - elsewhere > best.covered - best.elsewhere ||
        (covered - elsewhere === best.covered - best.elsewhere && word.length > best.word.length);
      if (better) best = { word, covered, elsewhere };
    }
    if (best) lines.push(`if (/\\b${best.word}\\b/.test(text)) return ${output};`);
  }
  return {
    nodeType: 'code',
    config: {
      code: ['const text = JSON.stringify(input).toLowerCase();', ...lines, `return ${fallback};`].join('\n'),
    },
  };
}
