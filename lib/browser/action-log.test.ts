import { describe, expect, it } from 'vitest';
import { describeTarget } from './action-log';

describe('describeTarget', () => {
  it('names each kind of target, quoting straight by default', () => {
    expect(describeTarget({ role: 'button', name: 'Save' })).toBe('button "Save"');
    expect(describeTarget({ role: 'main' })).toBe('main');
    expect(describeTarget({ label: 'Email' })).toBe('label "Email"');
    expect(describeTarget({ text: 'Welcome' })).toBe('text "Welcome"');
    expect(describeTarget({ css: '#go' })).toBe('css #go');
  });

  it('takes the quotes the caller shows (the trace view uses typographic ones)', () => {
    expect(describeTarget({ role: 'link', name: 'Docs' }, (s) => `“${s}”`)).toBe('link “Docs”');
  });
});
