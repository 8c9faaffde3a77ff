import { describe, expect, it } from 'vitest';
import { rankTypes } from './palette';
import type { NodeTypeInfo } from './types';

const t = (type: string, label: string, description: string) =>
  ({ type, label, description }) as NodeTypeInfo;
const catalog = [
  t(
    'trigger.webhook',
    'Webhook',
    'Starts the workflow when its URL is called; its output is the request body.',
  ),
  t('http.request', 'HTTP request', 'Call an HTTP API.'),
  t('transform', 'Transform', 'Builds a value.'),
  t('output', 'Output', 'The result of the run.'),
  t('requester', 'Re-query', 'Nothing to do with it.'),
];

describe('palette search ranking', () => {
  it('puts name matches above description matches', () => {
    expect(rankTypes(catalog, 'request').map((x) => x.type)).toEqual([
      'http.request',
      'requester',
      'trigger.webhook',
    ]);
  });
  it('ranks a name that starts with the query first, and drops non-matches', () => {
    expect(rankTypes(catalog, 'out').map((x) => x.type)).toEqual(['output', 'trigger.webhook']);
    expect(rankTypes(catalog, 'tr').map((x) => x.type)).toEqual(['transform', 'trigger.webhook']);
    expect(rankTypes(catalog, 'zzz')).toEqual([]);
  });
});
