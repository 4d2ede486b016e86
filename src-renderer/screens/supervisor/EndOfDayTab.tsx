import { getLocalTimeZone, today } from '@internationalized/date';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MethodResult } from '../../../src-shared/bridge/contract.ts';
import { END_OF_DAY_ERRORS } from '../../../src-shared/bridge/supervisor-schemas.ts';
import type { EndOfDayFigures, ShiftReconciliation } from '../../../src-shared/sync/reports.ts';
import { useFormat } from '../../app/app-info.ts';
import { useBridgeMutation, useBridgeQuery } from '../../app/bridge-context.tsx';
import { errorCode } from '../../app/errors.ts';
import {
  Button,
  type DataColumn,
  DataTable,
  DateField,
  ErrorNotice,
  KeyValueList,
  Notice,
  ProgressBar,
} from '../../components/index.ts';

type Report = MethodResult<'sync.endOfDay'>;
type FigureKey = keyof EndOfDayFigures;
type Kind = 'count' | 'money' | 'units';

/** The figures in reading order; `warn` marks a figure that needs a look when it is not zero. */
const FIGURES: ReadonlyArray<{ key: FigureKey; kind: Kind; strong?: boolean; warn?: boolean }> = [
  { key: 'salesCount', kind: 'count' },
  { key: 'salesMinor', kind: 'money' },
  { key: 'salesUnits', kind: 'units' },
  { key: 'taxMinor', kind: 'money' },
  { key: 'chargesMinor', kind: 'money' },
  { key: 'leviesMinor', kind: 'money' },
  { key: 'debtRecoveredMinor', kind: 'money' },
  { key: 'fbeCount', kind: 'count' },
  { key: 'fbeUnits', kind: 'units' },
  { key: 'reversalsCount', kind: 'count' },
  { key: 'reversalsMinor', kind: 'money' },
  { key: 'netMinor', kind: 'money', strong: true },
  { key: 'cashMinor', kind: 'money' },
  { key: 'shiftsClosed', kind: 'count' },
  { key: 'cashCountedMinor', kind: 'money' },
  { key: 'cashExpectedMinor', kind: 'money' },
  { key: 'varianceMinor', kind: 'money', strong: true, warn: true },
  { key: 'mismatchedShifts', kind: 'count', warn: true },
];

const isFigure = (field: string): field is FigureKey => FIGURES.some((figure) => figure.key === field);

/** One column of the figures table: an operator, or the outlet as a whole. */
interface FigureColumn {
  id: string;
  label: string;
  figures: EndOfDayFigures;
}

/** Saves text as a file through a Blob URL (allowed by the app's CSP: nothing is fetched or run from it). */
function downloadText(fileName: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked after the click has handed the file to the browser's download.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function FiguresTable({ report }: { report: Report }) {
  const { t } = useTranslation('supervisor');
  const { money, units, locale } = useFormat();
  const count = (n: number) => new Intl.NumberFormat(locale).format(n);
  const show = (kind: Kind, value: number) =>
    kind === 'money' ? money(value) : kind === 'units' ? units(value) : count(value);
  const figureColumns: FigureColumn[] = [
    ...report.byOperator.map((row) => ({
      id: `operator:${row.outletCode}:${row.operator}`,
      label: row.operatorName ? `${row.operatorName} (${row.operator})` : row.operator,
      figures: row,
    })),
    ...report.byOutlet.map((row) => ({
      id: `outlet:${row.outletCode}`,
      label: t('endOfDay.outletColumn', { outlet: row.outletName || row.outletCode }),
      figures: row,
    })),
  ];
  const columns: DataColumn<(typeof FIGURES)[number]>[] = [
    {
      id: 'figure',
      label: t('endOfDay.figure'),
      isRowHeader: true,
      render: (figure) =>
        figure.strong ? <strong>{t(`endOfDay.row.${figure.key}`)}</strong> : t(`endOfDay.row.${figure.key}`),
    },
    ...figureColumns.map<DataColumn<(typeof FIGURES)[number]>>((column) => ({
      id: column.id,
      label: column.label,
      align: 'end',
      nowrap: true,
      render: (figure) => {
        const value = column.figures[figure.key];
        const text = show(figure.kind, value);
        if (figure.warn && value !== 0) return <span className="ov-text-danger">{text}</span>;
        return figure.strong ? <strong>{text}</strong> : text;
      },
    })),
  ];
  return (
    <DataTable
      label={t('endOfDay.figuresTable')}
      columns={columns}
      rows={FIGURES}
      rowKey={(figure) => figure.key}
      emptyText={t('endOfDay.nothing')}
      className="ov-eod__figures"
    />
  );
}

function ShiftsTable({ shifts }: { shifts: readonly ShiftReconciliation[] }) {
  const { t } = useTranslation('supervisor');
  const { money, dateTime } = useFormat();
  const describe = (field: string, value: number) => (field.endsWith('Minor') ? money(value) : String(value));
  const columns: DataColumn<ShiftReconciliation>[] = [
    {
      id: 'reportNo',
      label: t('endOfDay.shift.reportNo'),
      isRowHeader: true,
      nowrap: true,
      render: (row) => String(row.reportNo),
    },
    { id: 'operator', label: t('endOfDay.shift.operator'), render: (row) => row.operator },
    {
      id: 'closedAt',
      label: t('endOfDay.shift.closedAt'),
      nowrap: true,
      render: (row) => dateTime(row.closedAt),
    },
    {
      id: 'status',
      label: t('endOfDay.shift.status'),
      nowrap: true,
      render: (row) =>
        row.status === 'match' ? (
          t('endOfDay.shift.match')
        ) : (
          <span className="ov-eod__mismatch">{t('endOfDay.shift.mismatch')}</span>
        ),
    },
    {
      id: 'differences',
      label: t('endOfDay.shift.differences'),
      render: (row) =>
        row.differences.length === 0 ? (
          t('endOfDay.shift.none')
        ) : (
          <ul className="ov-eod__differences">
            {row.differences.map((difference) => (
              <li key={difference.field}>
                {t('endOfDay.shift.difference', {
                  field: isFigure(difference.field)
                    ? t(`endOfDay.row.${difference.field}`)
                    : difference.field,
                  reported: describe(difference.field, difference.reported),
                  recomputed: describe(difference.field, difference.recomputed),
                  delta: describe(difference.field, difference.reported - difference.recomputed),
                })}
              </li>
            ))}
          </ul>
        ),
    },
  ];
  return (
    <DataTable
      label={t('endOfDay.shiftsTitle')}
      columns={columns}
      rows={shifts}
      rowKey={(row) => `${row.outletCode}:${row.shiftId}`}
      emptyText={t('endOfDay.shiftsEmpty')}
    />
  );
}

/** The "no answer" states: offline and not enrolled get their own explanation; anything else the error itself. */
function Unavailable({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const { t } = useTranslation('supervisor');
  const code = errorCode(error);
  if (code === END_OF_DAY_ERRORS.notEnrolled) {
    return (
      <Notice tone="info" title={t('endOfDay.notEnrolledTitle')}>
        <p>{t('endOfDay.notEnrolledText')}</p>
      </Notice>
    );
  }
  if (code === END_OF_DAY_ERRORS.offline) {
    return (
      <Notice tone="warning" title={t('endOfDay.offlineTitle')} live="status">
        <p>{t('endOfDay.offlineText')}</p>
        <Button onPress={onRetry}>{t('common:action.retry')}</Button>
      </Notice>
    );
  }
  return <ErrorNotice error={error} onRetry={onRetry} />;
}

/** The end of day of this outlet as head office computed it from the uploaded events (needs a connection). */
export function EndOfDayTab() {
  const { t } = useTranslation('supervisor');
  const { dateTime, timeZone } = useFormat();
  const [date, setDate] = useState(() => today(timeZone ?? getLocalTimeZone()).toString());
  const [savedAs, setSavedAs] = useState<string | null>(null);
  const report = useBridgeQuery(
    'sync.endOfDay',
    { date },
    { enabled: date !== '', retry: false, staleTime: 30_000 },
  );
  const csv = useBridgeMutation('sync.endOfDayCsv', {
    onSuccess: ({ fileName, csv: text }) => {
      downloadText(fileName, text, 'text/csv;charset=utf-8');
      setSavedAs(fileName);
    },
  });
  // Figures from an earlier answer are not shown under a failed refresh: they could be taken for today's.
  const data = report.isError ? undefined : report.data;
  const empty = data !== undefined && data.byOperator.length === 0 && data.shifts.length === 0;
  return (
    <div className="ov-eod">
      <div className="ov-eod__toolbar">
        <DateField
          label={t('endOfDay.date')}
          description={t('endOfDay.dateHint')}
          value={date}
          onChange={(value) => {
            setDate(value);
            setSavedAs(null);
            csv.reset();
          }}
          errorMessage={date === '' ? t('endOfDay.dateInvalid') : null}
        />
        <div className="ov-actions">
          <Button
            variant="secondary"
            onPress={() => {
              setSavedAs(null);
              void report.refetch();
            }}
            isDisabled={date === ''}
            isPending={report.isFetching}
          >
            {t('endOfDay.refresh')}
          </Button>
          <Button onPress={() => csv.mutate({ date })} isDisabled={!data} isPending={csv.isPending}>
            {t('endOfDay.download')}
          </Button>
        </div>
      </div>
      {savedAs ? (
        <Notice tone="success" live="status">
          {t('endOfDay.downloaded', { fileName: savedAs })}
        </Notice>
      ) : null}
      {csv.isError ? <ErrorNotice error={csv.error} title={t('endOfDay.downloadFailed')} /> : null}
      {report.isPending && date !== '' ? <ProgressBar label={t('endOfDay.loading')} /> : null}
      {report.isError ? <Unavailable error={report.error} onRetry={() => void report.refetch()} /> : null}
      {data ? (
        <>
          <KeyValueList
            className="ov-eod__facts"
            items={[
              { label: t('endOfDay.generatedAt'), value: dateTime(data.generatedAt) },
              ...data.byOutlet.map((outlet) => ({
                label: t('endOfDay.lastUpload', { outlet: outlet.outletName || outlet.outletCode }),
                value: outlet.lastUploadAt ? dateTime(outlet.lastUploadAt) : t('endOfDay.neverUploaded'),
              })),
            ]}
          />
          {empty ? (
            <Notice tone="info" title={t('endOfDay.nothing')}>
              <p>{t('endOfDay.nothingHint')}</p>
            </Notice>
          ) : (
            <>
              <section className="ov-panel" aria-labelledby="ov-eod-figures">
                <h2 id="ov-eod-figures">{t('endOfDay.figuresTitle')}</h2>
                <FiguresTable report={data} />
              </section>
              <section className="ov-panel" aria-labelledby="ov-eod-shifts">
                <h2 id="ov-eod-shifts">{t('endOfDay.shiftsTitle')}</h2>
                <p className="ov-muted">{t('endOfDay.shiftsHint')}</p>
                <ShiftsTable shifts={data.shifts} />
              </section>
            </>
          )}
        </>
      ) : null}
    </div>
  );
}
