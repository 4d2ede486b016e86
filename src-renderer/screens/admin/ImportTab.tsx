import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { FileTrigger } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import type { ImportResult } from '../../../src-shared/bridge/domain-schemas.ts';
import { bridgeQueryKey, useBridgeMutation } from '../../app/bridge-context.tsx';
import {
  Button,
  type DataColumn,
  DataTable,
  ErrorNotice,
  KeyValueList,
  Notice,
  ProgressBar,
  Select,
} from '../../components/index.ts';

type ImportKind = ImportResult['kind'];
type Rejection = ImportResult['rejected'][number];

/** The bridge refuses more than this (import.csv `csv` max length). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

const COLUMNS: Record<ImportKind, string> = {
  customers: 'account_no, name, address, phone, location, fbe_eligible',
  meters:
    'pan | meter_no, iin_length, meter_type, customer_account_no, tariff_code, sgc, ti, krn, key_type, ea, dkga, base_date, ken',
};

interface PickedFile {
  name: string;
  text: string;
}

/**
 * CSV import of meters or customers: a dry run first (the engine checks every row and writes nothing), then the
 * real import of the same file, all or nothing. The file is read in the browser; only its text crosses the bridge.
 */
export function ImportTab() {
  const { t } = useTranslation('admin');
  const queryClient = useQueryClient();
  const fileId = useId();
  const [kind, setKind] = useState<ImportKind>('meters');
  const [file, setFile] = useState<PickedFile | null>(null);
  const [fileProblem, setFileProblem] = useState<string | null>(null);
  const [reading, setReading] = useState(false);
  const run = useBridgeMutation('import.csv', {
    onSuccess: (result) => {
      if (result.dryRun || result.imported === 0) return;
      void queryClient.invalidateQueries({
        queryKey: bridgeQueryKey(result.kind === 'meters' ? 'meters.list' : 'customers.list'),
      });
    },
  });

  const pick = async (chosen: File | null) => {
    run.reset();
    setFile(null);
    setFileProblem(null);
    if (!chosen) return;
    if (chosen.size > MAX_FILE_BYTES) {
      setFileProblem(t('import.tooLarge'));
      return;
    }
    setReading(true);
    try {
      setFile({ name: chosen.name, text: await chosen.text() });
    } catch {
      setFileProblem(t('import.unreadable'));
    } finally {
      setReading(false);
    }
  };

  const start = (dryRun: boolean) => {
    if (!file || run.isPending) return;
    run.mutate({ kind, fileName: file.name, csv: file.text, dryRun });
  };

  const result = run.data;
  const checkedClean = result?.dryRun === true && result.rejected.length === 0 && result.rows > 0;

  return (
    <div className="ov-admin-import">
      <section className="ov-panel ov-form" aria-labelledby="ov-admin-import-title">
        <h2 id="ov-admin-import-title">{t('import.title')}</h2>
        <p className="ov-muted ov-admin-note">{t('import.description')}</p>
        <div className="ov-form__row">
          <Select<ImportKind>
            label={t('import.kind')}
            options={[
              { id: 'meters', label: t('import.kindMeters') },
              { id: 'customers', label: t('import.kindCustomers') },
            ]}
            value={kind}
            onChange={(next) => {
              setKind(next);
              run.reset();
            }}
            isDisabled={run.isPending}
          />
          <fieldset className="ov-field ov-admin-filefield">
            <legend className="ov-field__label">{t('import.file')}</legend>
            <div className="ov-admin-file">
              <FileTrigger
                acceptedFileTypes={['.csv', 'text/csv']}
                onSelect={(files) => void pick(files?.[0] ?? null)}
              >
                <Button isDisabled={run.isPending} aria-describedby={`${fileId}-name ${fileId}-hint`}>
                  {t('import.choose')}
                </Button>
              </FileTrigger>
              <span id={`${fileId}-name`} className="ov-admin-file__name" aria-live="polite">
                {file ? file.name : t('import.noFile')}
              </span>
            </div>
            <span id={`${fileId}-hint`} className={fileProblem ? 'ov-field__error' : 'ov-field__description'}>
              {fileProblem ?? t('import.fileHint')}
            </span>
          </fieldset>
        </div>
        <p className="ov-admin-note">
          <span className="ov-field__label">{t('import.columns')}</span>{' '}
          <code className="ov-admin-code">{COLUMNS[kind]}</code>
        </p>
        {run.isPending || reading ? (
          <ProgressBar
            label={
              reading
                ? t('import.reading')
                : run.variables?.dryRun
                  ? t('import.checking')
                  : t('import.importing')
            }
          />
        ) : null}
        <ErrorNotice error={run.error} title={t('import.failed')} />
        <div className="ov-actions">
          <Button
            onPress={() => start(true)}
            isDisabled={!file || reading}
            isPending={run.isPending && run.variables?.dryRun === true}
          >
            {t('import.dryRun')}
          </Button>
          <Button
            variant="primary"
            onPress={() => start(false)}
            isDisabled={!checkedClean}
            isPending={run.isPending && run.variables?.dryRun === false}
          >
            {checkedClean ? t('import.runCount', { count: result.rows }) : t('import.run')}
          </Button>
        </div>
      </section>
      {result ? <ImportReport result={result} /> : null}
    </div>
  );
}

function ImportReport({ result }: { result: ImportResult }) {
  const { t } = useTranslation('admin');
  const columns: DataColumn<Rejection & { key: string }>[] = [
    {
      id: 'line',
      label: t('import.column.line'),
      isRowHeader: true,
      align: 'end',
      render: (row) => row.line,
    },
    { id: 'column', label: t('import.column.column'), render: (row) => row.column ?? '—' },
    {
      id: 'value',
      label: t('import.column.value'),
      render: (row) => (row.value === undefined ? '—' : <span className="ov-mono">{row.value}</span>),
    },
    { id: 'message', label: t('import.column.message'), render: (row) => row.message },
  ];
  const rejected = result.rejected.map((row, index) => ({ ...row, key: String(index) }));
  const rejectedLines = new Set(result.rejected.map((row) => row.line)).size;
  let notice: { tone: 'success' | 'danger' | 'info'; title: string; text: string };
  if (rejected.length > 0)
    notice = {
      tone: 'danger',
      title: t('import.rejectedTitle', { count: rejectedLines }),
      text: result.dryRun ? t('import.rejectedDryRun') : t('import.rejectedReal'),
    };
  else if (result.rows === 0)
    notice = { tone: 'info', title: t('import.emptyTitle'), text: t('import.emptyText') };
  else if (result.dryRun)
    notice = {
      tone: 'success',
      title: t('import.cleanTitle', { count: result.rows }),
      text: t('import.cleanText'),
    };
  else
    notice = {
      tone: 'success',
      title: t('import.doneTitle', { count: result.imported }),
      text: t('import.doneText'),
    };

  return (
    <section className="ov-panel" aria-labelledby="ov-admin-import-report">
      <h2 id="ov-admin-import-report">{result.dryRun ? t('import.reportDryRun') : t('import.reportReal')}</h2>
      <Notice tone={notice.tone} live="status" title={notice.title}>
        {notice.text}
      </Notice>
      <KeyValueList
        className="ov-admin-facts"
        items={[
          { label: t('import.reportFile'), value: result.file },
          { label: t('import.reportRows'), value: result.rows },
          {
            label: t('import.reportImported'),
            value: result.imported,
            tone: result.imported > 0 ? 'strong' : 'normal',
          },
          {
            label: t('import.reportProblems'),
            value: rejected.length,
            tone: rejected.length > 0 ? 'danger' : 'normal',
          },
        ]}
      />
      {rejected.length > 0 ? (
        <DataTable
          label={t('import.rejectionsLabel')}
          columns={columns}
          rows={rejected}
          rowKey={(row) => row.key}
          emptyText={t('import.noProblems')}
          className="ov-admin-table"
        />
      ) : null}
    </section>
  );
}
