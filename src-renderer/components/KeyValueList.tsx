import type { ReactNode } from 'react';

export interface KeyValueItem {
  label: ReactNode;
  value: ReactNode;
  /** Highlight (e.g. arrears, the total). */
  tone?: 'normal' | 'strong' | 'warning' | 'danger';
}

/** Label / value pairs as a description list (customer details, a price breakdown). */
export function KeyValueList({ items, className }: { items: readonly KeyValueItem[]; className?: string }) {
  return (
    <dl className={['ov-kv', className].filter(Boolean).join(' ')}>
      {items.map((item, index) => (
        // Items are positional and never reordered, so the index is a stable key.
        // biome-ignore lint/suspicious/noArrayIndexKey: static positional list
        <div key={index} className={`ov-kv__row ov-kv__row--${item.tone ?? 'normal'}`}>
          <dt>{item.label}</dt>
          <dd>{item.value}</dd>
        </div>
      ))}
    </dl>
  );
}
