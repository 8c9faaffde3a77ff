import { describe, expect, it } from 'vitest';
import { createSandboxServices } from '@/lib/sandbox';
import { bindStepInput, savedStepScope } from './step-input';

// A proposal reads `input` as the step's input; saved after its upstream step, `input` would be the
// run's. Bound, both the code body and every `{{ }}` of a transform read the upstream's output.

const sandbox = createSandboxServices();
const stepInput = { text: 'my invoice', n: 2 };
const asSaved = { ...savedStepScope('fetch', stepInput), input: { text: 'the run input', n: 40 } };

describe('bindStepInput', () => {
  it('a code body reads the upstream output as input; the run input is out of its reach', async () => {
    const config = bindStepInput(
      'code',
      { code: 'return { label: input.text, twice: input.n * 2 };' },
      'fetch',
    );
    expect(await sandbox.runCode(String(config.code), asSaved)).toEqual({ label: 'my invoice', twice: 4 });
    // Unbound, the same body reads the run input: what the binding prevents.
    expect(await sandbox.runCode('return input.n;', asSaved)).toBe(40);
  });

  it('every {{ }} of a transform, whole-value or inside text, nested in objects and arrays', async () => {
    const value = {
      label: "{{ /invoice/.test(input.text) ? 'billing' : 'other' }}",
      line: 'n is {{ input.n }} and {{ "}}" }}',
      list: ['{{ input.n + 1 }}', 'plain'],
      kept: 7,
    };
    const config = bindStepInput('transform', { value }, 'fetch');
    expect(await sandbox.render(config.value, asSaved)).toEqual({
      label: 'billing',
      line: 'n is 2 and }}',
      list: [3, 'plain'],
      kept: 7,
    });
  });
});
