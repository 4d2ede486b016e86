import { type KeyObject, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SyncError, syncErrorFromResponse } from '../../src-shared/sync/errors.ts';
import { type MasterPage, masterPageSchema, masterPath } from '../../src-shared/sync/master-data.ts';
import {
  type DeviceInfo,
  deviceInfoSchema,
  type EnrollRequest,
  type EnrollResponse,
  enrollResponseSchema,
  errorBodySchema,
  SIGNATURE_HEADERS,
  SYNC_ROUTES,
  signingString,
  type UploadRequest,
  type UploadResponse,
  uploadResponseSchema,
} from '../../src-shared/sync/protocol.ts';
import { type EndOfDayReport, endOfDayPath, endOfDayReportSchema } from '../../src-shared/sync/reports.ts';
import { nodeSha256Hex, signText } from './identity.ts';
import type { SyncTransport, TransportResponse } from './transport.ts';

/** Headers that prove a request comes from the device: see `signingString` (src-shared/sync/protocol.ts). */
export function signedHeaders(
  device: { deviceId: string; key: KeyObject },
  method: string,
  path: string,
  body: Uint8Array,
  now: Date,
  nonce = randomBytes(18).toString('base64url'),
): Record<string, string> {
  const timestamp = String(now.getTime());
  const text = signingString({
    method,
    path,
    bodySha256: nodeSha256Hex(body),
    timestamp,
    nonce,
    deviceId: device.deviceId,
  });
  return {
    [SIGNATURE_HEADERS.device]: device.deviceId,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: signText(device.key, text),
  };
}

function decode<T extends z.ZodType>(response: TransportResponse, schema: T, what: string): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(response.body.toString('utf8'));
  } catch {
    json = undefined;
  }
  if (response.status >= 200 && response.status < 300) {
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    throw new SyncError('SYNC_SERVER_ERROR', `${what}: unexpected answer from the server`);
  }
  const error = errorBodySchema.safeParse(json);
  if (error.success) throw syncErrorFromResponse(response.status, error.data);
  throw new SyncError(
    response.status >= 500 || response.status === 429 ? 'SYNC_SERVER_ERROR' : 'SYNC_MALFORMED',
    `${what}: HTTP ${response.status} without an error body`,
  );
}

/** The calls of the protocol, typed; every refusal becomes a SyncError with its class. */
export class SyncApi {
  readonly #transport: SyncTransport;
  readonly #clock: () => Date;

  constructor(transport: SyncTransport, clock: () => Date = () => new Date()) {
    this.#transport = transport;
    this.#clock = clock;
  }

  async enroll(request: EnrollRequest): Promise<EnrollResponse> {
    const body = Buffer.from(JSON.stringify(request));
    const response = await this.#transport.send('POST', SYNC_ROUTES.enroll, body, {});
    return decode(response, enrollResponseSchema, 'enroll');
  }

  async device(device: { deviceId: string; key: KeyObject }): Promise<DeviceInfo> {
    const headers = signedHeaders(device, 'GET', SYNC_ROUTES.device, new Uint8Array(0), this.#clock());
    const response = await this.#transport.send('GET', SYNC_ROUTES.device, null, headers);
    return decode(response, deviceInfoSchema, 'device');
  }

  async masterPage(
    device: { deviceId: string; key: KeyObject },
    after: number,
    limit: number,
  ): Promise<MasterPage> {
    const path = masterPath(after, limit);
    const headers = signedHeaders(device, 'GET', path, new Uint8Array(0), this.#clock());
    const response = await this.#transport.send('GET', path, null, headers);
    return decode(response, masterPageSchema, 'master data');
  }

  /** The end of day of the device's own outlet (business date YYYY-MM-DD). */
  async endOfDay(device: { deviceId: string; key: KeyObject }, date: string): Promise<EndOfDayReport> {
    const path = endOfDayPath(date);
    const headers = signedHeaders(device, 'GET', path, new Uint8Array(0), this.#clock());
    const response = await this.#transport.send('GET', path, null, headers);
    return decode(response, endOfDayReportSchema, 'end of day');
  }

  /** The same report as the server's CSV export, as text. */
  async endOfDayCsv(device: { deviceId: string; key: KeyObject }, date: string): Promise<string> {
    const path = endOfDayPath(date, 'csv');
    const headers = signedHeaders(device, 'GET', path, new Uint8Array(0), this.#clock());
    const response = await this.#transport.send('GET', path, null, headers);
    // A refusal comes back as the usual JSON error body: decode turns it into the SyncError.
    if (response.status < 200 || response.status >= 300) decode(response, z.never(), 'end of day CSV');
    return response.body.toString('utf8');
  }

  async upload(
    device: { deviceId: string; key: KeyObject },
    request: UploadRequest,
  ): Promise<UploadResponse> {
    const body = Buffer.from(JSON.stringify(request));
    const headers = signedHeaders(device, 'POST', SYNC_ROUTES.batches, body, this.#clock());
    const response = await this.#transport.send('POST', SYNC_ROUTES.batches, body, headers);
    return decode(response, uploadResponseSchema, 'upload');
  }

  close(): void {
    this.#transport.close();
  }
}
