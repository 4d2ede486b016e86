import type { ReactNode } from 'react';
import { Cell, Column, Row, Table, TableBody, TableHeader } from 'react-aria-components';

export interface DataColumn<T> {
  id: string;
  label: string;
  render: (row: T) => ReactNode;
  /** Exactly one column names the row for screen readers (e.g. the receipt number). */
  isRowHeader?: boolean;
  /** Numbers and money align right. */
  align?: 'start' | 'end';
  /** Keep on one line (receipt numbers, dates, money). */
  nowrap?: boolean;
}

export interface DataTableProps<T> {
  /** Accessible name of the table. */
  label: string;
  columns: readonly DataColumn<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  /** Single selection (arrow keys move, Space/Enter or click select); omit for a read-only table. */
  selectedKey?: string | null;
  onSelectionChange?: (key: string | null) => void;
  /** Double-click or Enter on a row. */
  onRowAction?: (key: string) => void;
  emptyText: ReactNode;
  className?: string | undefined;
}

/**
 * An accessible data grid: arrow keys move between rows, Space or click selects, Enter runs the row action.
 * Rows are at least 44 px high for touch.
 */
export function DataTable<T>({
  label,
  columns,
  rows,
  rowKey,
  selectedKey,
  onSelectionChange,
  onRowAction,
  emptyText,
  className,
}: DataTableProps<T>) {
  const selectable = onSelectionChange !== undefined;
  return (
    <div className={['ov-table-wrap', className].filter(Boolean).join(' ')}>
      <Table
        aria-label={label}
        className="ov-table"
        selectionMode={selectable ? 'single' : 'none'}
        selectionBehavior="replace"
        {...(selectable
          ? {
              selectedKeys: selectedKey ? [selectedKey] : [],
              onSelectionChange: (keys) => {
                if (keys === 'all') return;
                const [first] = [...keys];
                onSelectionChange(first === undefined ? null : String(first));
              },
            }
          : {})}
        {...(onRowAction ? { onRowAction: (key) => onRowAction(String(key)) } : {})}
      >
        <TableHeader className="ov-table__head">
          {columns.map((column) => (
            <Column
              key={column.id}
              id={column.id}
              isRowHeader={column.isRowHeader ?? false}
              className={`ov-table__column ov-align-${column.align ?? 'start'}`}
            >
              {column.label}
            </Column>
          ))}
        </TableHeader>
        <TableBody
          className="ov-table__body"
          renderEmptyState={() => <div className="ov-table__empty">{emptyText}</div>}
        >
          {rows.map((row) => {
            const key = rowKey(row);
            return (
              <Row key={key} id={key} className="ov-table__row">
                {columns.map((column) => (
                  <Cell
                    key={column.id}
                    className={`ov-table__cell ov-align-${column.align ?? 'start'}${column.nowrap ? ' ov-table__cell--nowrap' : ''}`}
                  >
                    {column.render(row)}
                  </Cell>
                ))}
              </Row>
            );
          })}
        </TableBody>
      </Table>
    </div>
  );
}
