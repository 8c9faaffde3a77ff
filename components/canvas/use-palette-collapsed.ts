'use client';
import { useCallback, useState } from 'react';

// Whether the node palette is folded away: the user's last choice (localStorage), else folded on
// windows narrower than PALETTE_AUTO_COLLAPSE_PX, where the canvas needs the room.

const KEY = 'trellis.palette.collapsed';
export const PALETTE_AUTO_COLLAPSE_PX = 1100;

export function usePaletteCollapsed(): [boolean, (v: boolean) => void] {
  const [collapsed, setState] = useState(() => {
    if (typeof window === 'undefined') return false;
    const saved = window.localStorage.getItem(KEY);
    return saved === null ? window.innerWidth < PALETTE_AUTO_COLLAPSE_PX : saved === '1';
  });
  const set = useCallback((v: boolean) => {
    setState(v);
    try {
      window.localStorage.setItem(KEY, v ? '1' : '0');
    } catch {
      // Private mode: the choice lasts for this page only.
    }
  }, []);
  return [collapsed, set];
}
