import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, rename, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { csvLine } from '../../src-shared/encoding/csv.ts';
import { OpenVendError } from '../../src-shared/errors/openvend-error.ts';
import {
  KCT_CAMPAIGN_OUTPUT_COLUMNS,
  type KctCampaignResult,
  rejectedKctCampaignRow,
  runKctCampaignRow,
} from '../../src-shared/sts/kct-campaign.ts';
import { VendingKeyring } from '../../src-shared/sts/vending-keyring.ts';

export interface KctCampaignOptions {
  metersPath: string;
  outPath: string;
  /** Parsed vending-key document ({ vendingKeys: [...] }). */
  vendingKeys: unknown;
  /** Where to draw a progress line (a TTY), if anywhere. */
  progress?: NodeJS.WriteStream | undefined;
}

export interface KctCampaignSummary {
  meters: number;
  ok: number;
  rejected: number;
  seconds: number;
  metersPerSecond: number;
  out: string;
}

/**
 * Streams meters.csv → key change tokens → kcts.csv with back-pressure, so memory stays flat whatever
 * the number of meters. The output is written to a ".partial" file and renamed only when complete, so
 * a half-written campaign is never mistaken for a finished one.
 */
export async function runKctCampaign(options: KctCampaignOptions): Promise<KctCampaignSummary> {
  const keyring = VendingKeyring.fromJson(options.vendingKeys);
  await access(options.metersPath).catch((error: Error) => {
    throw new OpenVendError(
      'FILE_UNREADABLE',
      `Cannot read the meters file ${options.metersPath}.`,
      error.message,
    );
  });
  const started = performance.now();
  let ok = 0;
  let rejected = 0;
  let lastDraw = 0;
  const drawProgress = (final = false) => {
    const now = performance.now();
    if (!options.progress || (!final && now - lastDraw < 250)) return;
    lastDraw = now;
    const done = ok + rejected;
    const rate = Math.round(done / Math.max((now - started) / 1000, 1e-3));
    options.progress.write(
      `\r${done.toLocaleString('en')} meters (${rejected} rejected), ${rate.toLocaleString('en')}/s${final ? '\n' : ''}`,
    );
  };

  // Rows arrive as arrays (much faster than csv-parse's object mode); the header row names the columns.
  let columns: string[] | undefined;
  const keyChanges = new Transform({
    objectMode: true,
    transform(record: string[], _encoding, callback) {
      if (!columns) {
        columns = record.map((name) => name.trim().toLowerCase());
        callback(null, csvLine(KCT_CAMPAIGN_OUTPUT_COLUMNS));
        return;
      }
      const row: Record<string, string> = {};
      for (let i = 0; i < columns.length; i++) row[columns[i]!] = record[i] ?? '';
      let result: KctCampaignResult;
      try {
        result = runKctCampaignRow(row, keyring);
        ok++;
      } catch (error) {
        result = rejectedKctCampaignRow(row, error);
        rejected++;
      }
      callback(null, csvLine(KCT_CAMPAIGN_OUTPUT_COLUMNS.map((column) => result[column])));
      if (((ok + rejected) & 0x3ff) === 0) drawProgress();
    },
  });

  const partialPath = `${options.outPath}.partial`;
  const output = createWriteStream(partialPath, { mode: 0o600 });
  try {
    await pipeline(
      createReadStream(options.metersPath),
      parse({ skip_empty_lines: true, relax_column_count: true }),
      keyChanges,
      output,
    );
  } catch (error) {
    output.destroy();
    await once(output, 'close').catch(() => undefined);
    await rm(partialPath, { force: true });
    if ((error as { code?: string }).code?.startsWith('CSV_')) {
      const line = (error as { lines?: number }).lines;
      throw new OpenVendError(
        'CSV_INVALID',
        `The meters file is not valid CSV${line ? ` (line ${line})` : ''}.`,
        (error as Error).message,
      );
    }
    throw error;
  }
  await rename(partialPath, options.outPath);
  drawProgress(true);
  const seconds = (performance.now() - started) / 1000;
  return {
    meters: ok + rejected,
    ok,
    rejected,
    seconds: Math.round(seconds * 1000) / 1000,
    metersPerSecond: Math.round((ok + rejected) / Math.max(seconds, 1e-6)),
    out: options.outPath,
  };
}
