import { useEffect, useRef } from 'react';

export interface ShortcutOptions {
  enabled?: boolean;
  /** Also fire while a modal dialog is open (off by default: a dialog owns the keyboard). */
  inDialog?: boolean;
  /**
   * Also fire when focus is on a button, link, table row or (for Enter) a text field, which handle the key
   * themselves. On by default for F-keys and Escape; off for Enter so a focused button is not pressed twice.
   */
  fromControls?: boolean;
}

const dialogOpen = () => document.querySelector('.ov-modal-overlay') !== null;

const CONTROLS =
  'button, a[href], input, textarea, select, [role="button"], [role="row"], [role="option"], [role="gridcell"]';

/**
 * Window-wide keys (F-keys, Enter, Escape; plain keys only, without modifiers), one handler per key. The browser's
 * own action for the key (F3 find, F7 caret browsing…) is suppressed so the key does what the screen shows.
 */
export function useShortcuts(
  handlers: Readonly<Record<string, () => void>>,
  { enabled = true, inDialog = false, fromControls }: ShortcutOptions = {},
) {
  const ref = useRef(handlers);
  ref.current = handlers;
  const keys = Object.keys(handlers).sort().join(' ');
  useEffect(() => {
    if (!enabled || keys === '') return;
    const wanted = new Set(keys.split(' '));
    const onKeyDown = (event: KeyboardEvent) => {
      if (!wanted.has(event.key) || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      if (event.defaultPrevented || event.repeat) return;
      if (!inDialog && dialogOpen()) return;
      const controls = fromControls ?? event.key !== 'Enter';
      if (!controls && (event.target as Element | null)?.closest?.(CONTROLS)) return;
      event.preventDefault();
      ref.current[event.key]?.();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [keys, enabled, inDialog, fromControls]);
}

export function useShortcut(key: string, handler: () => void, options: ShortcutOptions = {}) {
  useShortcuts({ [key]: handler }, options);
}

const MAX_GAP_MS = 60;
const MIN_SCAN_DIGITS = 11;

/**
 * A barcode scanner in keyboard-wedge mode types digits very fast and ends with Enter. When focus is not in a text
 * field, such a burst is taken as a scanned meter number (typing by hand is far slower than the gap allowed).
 */
export function useBarcodeWedge(onScan: (digits: string) => void, enabled = true) {
  const ref = useRef(onScan);
  ref.current = onScan;
  useEffect(() => {
    if (!enabled) return;
    let buffer = '';
    let last = 0;
    const onKeyDown = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target?.closest('input, textarea, select, [contenteditable="true"]') || dialogOpen()) return;
      const now = event.timeStamp;
      if (now - last > MAX_GAP_MS) buffer = '';
      last = now;
      if (/^\d$/.test(event.key)) {
        buffer += event.key;
      } else if (event.key === 'Enter' && buffer.length >= MIN_SCAN_DIGITS) {
        event.preventDefault();
        const scanned = buffer;
        buffer = '';
        ref.current(scanned);
      } else {
        buffer = '';
      }
    };
    window.addEventListener('keydown', onKeyDown, true);
    return () => window.removeEventListener('keydown', onKeyDown, true);
  }, [enabled]);
}
