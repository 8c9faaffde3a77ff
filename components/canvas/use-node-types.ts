'use client';
import { createContext, useContext, useEffect, useState } from 'react';
import { api, errorMessage } from '@/components/ui/api';
import type { NodeTypeInfo } from './types';

// Node types change only on deploy: fetch once per page load and share the promise.
let cached: Promise<NodeTypeInfo[]> | null = null;

function load(): Promise<NodeTypeInfo[]> {
  cached ??= api<{ nodeTypes: NodeTypeInfo[] }>('/api/node-types').then(
    (r) => r.nodeTypes,
    (err) => {
      cached = null;
      throw err;
    },
  );
  return cached;
}

export function useNodeTypes(): { types: NodeTypeInfo[] | null; error: string | null; retry: () => void } {
  const [types, setTypes] = useState<NodeTypeInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (t) => live && setTypes(t),
      (e) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [attempt]);
  return {
    types,
    error,
    retry: () => {
      setError(null);
      setAttempt((a) => a + 1);
    },
  };
}

/** The node-type catalog, keyed by type, for node components (stable after load). */
export const CatalogContext = createContext<Map<string, NodeTypeInfo>>(new Map());
export const useCatalog = () => useContext(CatalogContext);
