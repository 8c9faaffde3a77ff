import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { AuthForm } from './auth-form';

// The setup page says the password rule before the server refuses a short one.
describe('AuthForm', () => {
  it('states the password rule on setup, and enforces it in the field', () => {
    const html = renderToStaticMarkup(createElement(AuthForm, { mode: 'setup' }));
    expect(html).toContain('At least 10 characters');
    expect(html).toMatch(/minLength="10"/i);
    expect(html).toContain('aria-describedby="password-rule"');
  });
  it('does not on sign-in', () => {
    const html = renderToStaticMarkup(createElement(AuthForm, { mode: 'login' }));
    expect(html).not.toContain('At least 10 characters');
  });
});
