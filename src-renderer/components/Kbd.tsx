import type { ReactNode } from 'react';

/** A key cap, e.g. <Kbd>F2</Kbd>; hidden from screen readers' reading order noise by aria-hidden parents if needed. */
export function Kbd({ children }: { children: ReactNode }) {
  return <kbd className="ov-kbd">{children}</kbd>;
}

export interface ShortcutHint {
  keys: string;
  label: string;
}

/** The row of keyboard shortcuts a screen offers, always visible so cashiers learn them. */
export function ShortcutBar({ hints, label }: { hints: readonly ShortcutHint[]; label: string }) {
  return (
    <ul className="ov-shortcut-bar" aria-label={label}>
      {hints.map((hint) => (
        <li key={hint.keys + hint.label}>
          <Kbd>{hint.keys}</Kbd> <span>{hint.label}</span>
        </li>
      ))}
    </ul>
  );
}
