import type Database from 'better-sqlite3';
import {
  type CarrierJobView,
  type DeviceConfig,
  type DeviceRole,
  deviceConfigSchema,
} from '../../src-shared/bridge/device-schemas.ts';
import { appendAudit } from '../engine/audit-log.ts';

/**
 * The outlet's device settings (`device_config`, one row per role) and the record of every print and card write
 * (`carrier_job`), in the ledger. Raw SQL as in the rest of the engine.
 */

export interface StoredDeviceConfig {
  config: DeviceConfig;
  secretSealed: Buffer | null;
  updatedAt: string;
}

export function readDeviceConfigs(sqlite: Database.Database): Map<DeviceRole, StoredDeviceConfig> {
  const rows = sqlite
    .prepare(
      'SELECT role, config_json AS configJson, secret_sealed AS secretSealed, updated_at AS updatedAt FROM device_config',
    )
    .all() as Array<{ role: string; configJson: string; secretSealed: Buffer | null; updatedAt: string }>;
  const out = new Map<DeviceRole, StoredDeviceConfig>();
  for (const row of rows) {
    // A row written by a newer version that this one cannot read is treated as not configured.
    const parsed = deviceConfigSchema.safeParse(JSON.parse(row.configJson));
    if (parsed.success && parsed.data.role === row.role) {
      out.set(parsed.data.role, {
        config: parsed.data,
        secretSealed: row.secretSealed,
        updatedAt: row.updatedAt,
      });
    }
  }
  return out;
}

/** Saves a role's settings and audits it (never the secret). `secretSealed` undefined keeps the stored one. */
export function saveDeviceConfig(
  sqlite: Database.Database,
  config: DeviceConfig,
  secretSealed: Buffer | null | undefined,
  operatorId: number,
  now: Date,
): void {
  sqlite
    .transaction(() => {
      const at = now.toISOString();
      sqlite
        .prepare(
          `INSERT INTO device_config (role, config_json, secret_sealed, updated_at, updated_by)
           VALUES (@role, @configJson, @secret, @at, @operatorId)
           ON CONFLICT (role) DO UPDATE SET config_json = excluded.config_json,
             secret_sealed = CASE WHEN @keepSecret THEN device_config.secret_sealed ELSE excluded.secret_sealed END,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        )
        .run({
          role: config.role,
          configJson: JSON.stringify(config),
          secret: secretSealed ?? null,
          keepSecret: secretSealed === undefined ? 1 : 0,
          at,
          operatorId,
        });
      appendAudit(
        sqlite,
        {
          operatorId,
          action: 'device.configure',
          entity: 'device',
          entityId: config.role,
          details: { connection: config.connection, settings: config.settings, pscChanged: !!secretSealed },
        },
        now,
      );
    })
    .immediate();
}

export function removeDeviceConfig(
  sqlite: Database.Database,
  role: DeviceRole,
  operatorId: number,
  now: Date,
): void {
  sqlite
    .transaction(() => {
      sqlite.prepare('DELETE FROM device_config WHERE role = ?').run(role);
      appendAudit(
        sqlite,
        { operatorId, action: 'device.remove', entity: 'device', entityId: role, details: {} },
        now,
      );
    })
    .immediate();
}

export type CarrierKind = CarrierJobView['carrier'];
export type CarrierState = CarrierJobView['state'];

export interface NewCarrierJob {
  jobId: string;
  receiptNo: number | null;
  carrier: CarrierKind;
  copy: boolean;
  device: string;
  operatorId: number;
}

export function insertCarrierJob(sqlite: Database.Database, job: NewCarrierJob, now: Date): void {
  const at = now.toISOString();
  sqlite
    .prepare(
      `INSERT INTO carrier_job (job_id, receipt_no, carrier, copy, state, device, operator_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
    )
    .run(job.jobId, job.receiptNo, job.carrier, job.copy ? 1 : 0, job.device, job.operatorId, at, at);
}

export function updateCarrierJob(
  sqlite: Database.Database,
  jobId: string,
  state: CarrierState,
  now: Date,
  error?: { code: string; message: string },
): void {
  sqlite
    .prepare(
      'UPDATE carrier_job SET state = ?, error_code = ?, error_message = ?, updated_at = ? WHERE job_id = ?',
    )
    .run(state, error?.code ?? null, error?.message ?? null, now.toISOString(), jobId);
}

export function carrierJobsOf(sqlite: Database.Database, receiptNo: number): CarrierJobView[] {
  const rows = sqlite
    .prepare(
      `SELECT j.job_id AS jobId, j.receipt_no AS receiptNo, j.carrier, j.copy, j.state, j.device,
              j.error_code AS errorCode, j.error_message AS errorMessage, o.display_name AS operator,
              j.created_at AS createdAt, j.updated_at AS updatedAt
         FROM carrier_job j JOIN operator o ON o.id = j.operator_id
        WHERE j.receipt_no = ? ORDER BY j.id`,
    )
    .all(receiptNo) as Array<Omit<CarrierJobView, 'copy'> & { copy: number }>;
  return rows.map((row) => ({ ...row, copy: row.copy === 1 }));
}

/** True when an original (non-copy) print of this receipt may have reached paper: sent, confirmed, or unknown. */
export function originalMayHavePrinted(sqlite: Database.Database, receiptNo: number): boolean {
  const row = sqlite
    .prepare(
      `SELECT 1 FROM carrier_job WHERE receipt_no = ? AND carrier = 'receipt' AND copy = 0 AND state <> 'failed' LIMIT 1`,
    )
    .get(receiptNo);
  return row !== undefined;
}
