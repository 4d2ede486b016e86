import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseServerUrl } from '../../../src-main/sync/transport.ts';
import { canonicalJson } from '../../../src-shared/sync/canonical-json.ts';
import { SYNC_ERRORS, SyncError, syncErrorFromResponse } from '../../../src-shared/sync/errors.ts';
import { eventProblem } from '../../../src-shared/sync/events.ts';
import {
  batchHash,
  GENESIS_BATCH_HASH,
  type SyncBatch,
  signingString,
  syncBatchSchema,
} from '../../../src-shared/sync/protocol.ts';
import { sampleSalePayload } from '../../sync-server/support.ts';

const batch: SyncBatch = {
  protocolVersion: 1,
  schemaVersion: 1,
  appVersion: '0.1.0',
  deviceId: '3f0c2a9e-8d1b-4c5e-9a7f-1b2c3d4e5f60',
  seq: 1,
  prevHash: GENESIS_BATCH_HASH,
  sealedAt: '2026-03-10T08:00:00.000Z',
  events: [
    {
      seq: 1,
      type: 'sale.sale',
      createdAt: '2026-03-10T08:00:00.000Z',
      payload: sampleSalePayload(1, '2026-03-10T08:00:00.000Z'),
    },
  ],
};

describe('canonical JSON', () => {
  it('sorts keys at every level and leaves no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }], e: undefined })).toBe(
      '{"a":[{"c":"x","d":null}],"b":1}',
    );
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
  });

  it('refuses what JSON cannot carry', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });

  it('is the same for any key order and survives a JSON round trip (property, fixed seed)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          const reversed = Object.fromEntries(Object.entries(value).reverse());
          expect(canonicalJson(reversed)).toBe(text);
        }
      }),
      { seed: 20260310, numRuns: 300 },
    );
  });
});

describe('batch hash and signing string', () => {
  it('changes with any single character of the batch', () => {
    const base = batchHash(batch);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    const text = JSON.stringify(batch);
    for (let i = 0; i < text.length; i += 7) {
      const ch = text[i]!;
      if (!/[0-9a-z]/.test(ch)) continue;
      const changed = `${text.slice(0, i)}${ch === '1' ? '2' : ch === 'a' ? 'b' : '1'}${text.slice(i + 1)}`;
      let json: unknown;
      try {
        json = JSON.parse(changed);
      } catch {
        continue; // the change broke the JSON itself (a letter of `null`): nothing to hash
      }
      const parsed = syncBatchSchema.safeParse(json);
      if (parsed.success) expect(batchHash(parsed.data), `position ${i}`).not.toBe(base);
    }
  });

  it('signs method, path, body hash, timestamp, nonce and device, one per line', () => {
    expect(
      signingString({
        method: 'post',
        path: '/v1/batches?x=1',
        bodySha256: 'ab',
        timestamp: '1',
        nonce: 'n',
        deviceId: 'd',
      }),
    ).toBe('OPENVEND-REQUEST-1\nPOST\n/v1/batches?x=1\nab\n1\nn\nd');
  });
});

describe('event checks', () => {
  it('accepts the outlet’s event types and names what is wrong otherwise', () => {
    expect(eventProblem(batch.events[0]!)).toBeNull();
    // A sale without the ledger row head office reconciles from is kept apart, not half-used.
    const { ledger: _ledger, ...withoutLedger } = sampleSalePayload(2, batch.sealedAt);
    expect(
      eventProblem({ seq: 2, type: 'sale.sale', createdAt: batch.sealedAt, payload: withoutLedger }),
    ).toMatchObject({ code: 'SYNC_EVENT_INVALID', message: expect.stringContaining('ledger') });
    expect(
      eventProblem({
        seq: 2,
        type: 'float.top-up',
        createdAt: batch.sealedAt,
        payload: { requestId: 'x', amountMinor: 1.5, reference: '' },
      }),
    ).toMatchObject({ code: 'SYNC_EVENT_INVALID', message: expect.stringContaining('amountMinor') });
    expect(
      eventProblem({ seq: 3, type: 'sale.unknown', createdAt: batch.sealedAt, payload: {} }),
    ).toMatchObject({
      code: 'SYNC_EVENT_UNKNOWN_TYPE',
    });
  });
});

describe('errors', () => {
  it('classifies every refusal as retry, resend or rejected', () => {
    const byClass: Record<string, string[]> = { retry: [], resend: [], rejected: [] };
    for (const [code, spec] of Object.entries(SYNC_ERRORS)) byClass[spec.class]!.push(code);
    expect(byClass.resend).toEqual(['SYNC_SEQ_GAP']);
    expect(byClass.retry).toEqual(
      expect.arrayContaining(['SYNC_UNAVAILABLE', 'SYNC_SERVER_ERROR', 'SYNC_CLOCK_SKEW', 'SYNC_REPLAYED']),
    );
    expect(byClass.rejected).toEqual(
      expect.arrayContaining(['SYNC_BATCH_TAMPERED', 'SYNC_DEVICE_REVOKED', 'SYNC_VERSION_UNSUPPORTED']),
    );
  });

  it('rebuilds a SyncError from an error body; an unknown code falls back by status', () => {
    const gap = syncErrorFromResponse(409, { error: { code: 'SYNC_SEQ_GAP', message: 'x', lastSeq: 4 } });
    expect(gap).toBeInstanceOf(SyncError);
    expect(gap).toMatchObject({ code: 'SYNC_SEQ_GAP', errorClass: 'resend', lastSeq: 4 });
    expect(syncErrorFromResponse(502, { error: { code: 'PROXY', message: '' } })).toMatchObject({
      code: 'SYNC_SERVER_ERROR',
      errorClass: 'retry',
    });
    expect(syncErrorFromResponse(418, { error: { code: 'TEAPOT', message: '' } }).errorClass).toBe(
      'rejected',
    );
  });
});

describe('server addresses', () => {
  it('takes https://host[:port] and refuses paths, queries, credentials and other schemes', () => {
    expect(parseServerUrl('https://sync.example.com:8443/').origin).toBe('https://sync.example.com:8443');
    for (const bad of ['ftp://x', 'https://x/api', 'https://x?y=1', 'https://u:p@x', 'not a url']) {
      expect(() => parseServerUrl(bad), bad).toThrow(SyncError);
    }
  });
});
