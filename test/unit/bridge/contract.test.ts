import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  bridgeContract,
  METHOD_NAMES,
  type MethodArgs,
  type MethodName,
} from '../../../src-shared/bridge/contract.ts';
import { PERMISSIONS } from '../../../src-shared/vending/roles.ts';

/**
 * The argument schemas of the bridge contract: one realistic valid call per method (the table must cover every
 * method, so a new method without an example fails here), strictness, types, money and defaults.
 */

const supervisor = { username: 'super', password: 'demo-super-pass' };

/** One valid call per method, as the UI would send it. */
const VALID_ARGS: { [M in MethodName]: MethodArgs<M> } = {
  'app.info': {},
  'auth.login': { username: 'cashier', password: 'demo-cashier-pass' },
  'auth.logout': {},
  'auth.setLanguage': { language: 'pt' },
  'status.get': {},
  'shift.open': {},
  'shift.xReport': {},
  'shift.close': { declaredCashMinor: 154_250 },
  'shift.zReports': { limit: 20 },
  'shift.reprintZ': { reportNo: 3 },
  'meter.confirm': { meterNumber: '0112 3456 7890' },
  'vend.quote': { meterNumber: '01123456789', tenderMinor: 10_000 },
  'vend.sell': {
    requestId: '6f1c2a9e-3b7d-4e21-9a5f-0c8d7e6b5a43',
    meterNumber: '01123456789',
    tenderMinor: 10_000,
    payType: 'mobile',
  },
  'sales.search': { meterNumber: '01123456789', fromDate: '2026-03-01', toDate: '2026-03-10', offset: 50 },
  'sales.reprint': { receiptNo: 42 },
  'sales.reverse': {
    requestId: 'reverse-000042',
    receiptNo: 42,
    reason: 'wrong-meter',
    note: 'Customer gave the neighbour’s meter number',
    supervisor,
  },
  'engineering.issue': {
    requestId: 'eng-00000001',
    meterNumber: '01123456789',
    token: { kind: 'set-power-limit', watts: 4_600 },
  },
  'engineering.keyChange': {
    requestId: 'kct-00000001',
    meterNumber: '01123456789',
    to: { krn: 2, baseDate: 2014 },
  },
  'tokens.explain': { meterNumber: '01123456789', token: '1234 5678 9012 3456 7890' },
  'meters.list': { query: 'Seshego', limit: 100 },
  'meters.update': {
    meterNo: '01123456789',
    blocked: true,
    blockedReason: 'Tamper reported by field inspection',
  },
  'customers.list': { query: 'ACC1001' },
  'customers.update': { accountNo: 'ACC1001', phone: '+27 82 555 1001' },
  'import.csv': {
    kind: 'customers',
    fileName: 'customers.csv',
    csv: 'accountNo,name\nACC2001,Thandi Mokoena\n',
    dryRun: true,
  },
  'tariffs.list': {},
  'operators.list': {},
  'operators.add': {
    username: 'cashier3',
    displayName: 'Lerato Cashier',
    role: 'cashier',
    password: 'a long enough password',
  },
  'operators.update': { username: 'cashier3', unlock: true },
  'outlet.get': {},
  'outlet.update': { receiptColumns: 42, lowFloatThresholdMinor: 200_000 },
  'float.ledger': { limit: 10, offset: 10 },
  'float.topUp': { requestId: 'topup-20260310-01', amountMinor: 5_000_000, reference: 'EFT 20260310-77' },
  'backup.start': {},
  'jobs.get': { jobId: 'backup-1' },
  'audit.verify': {},
  'sync.endOfDay': { date: '2026-03-10' },
  'sync.endOfDayCsv': { date: '2026-03-10' },
  'sync.quarantine': {},
  'devices.list': {},
  'devices.configure': {
    config: {
      role: 'magnetic-encoder',
      connection: { type: 'serial', vendorId: '0801', productId: '0002', serialNumber: 'MSR-0042' },
      settings: { model: 'msr206', coercivity: 'hi' },
    },
  },
  'devices.remove': { role: 'card-reader' },
  'devices.status': { role: 'receipt-printer' },
  'devices.testPrint': {},
  'devices.jobs': { receiptNo: 42 },
  'receipt.print': { receiptNo: 42, copy: true },
  'card.write': { receiptNo: 42, carrier: 'magnetic' },
  'card.read': {},
  'card.cancel': {},
};

const argsOf = (name: MethodName): z.ZodType => bridgeContract[name].args;

/** The distinct field paths zod refuses (fails the test when the args parse). */
function refusedPaths(name: MethodName, args: unknown): PropertyKey[][] {
  const parsed = argsOf(name).safeParse(args);
  expect(parsed.success, `${name} accepted ${JSON.stringify(args)}`).toBe(false);
  const paths = new Map(parsed.error!.issues.map(({ path }) => [JSON.stringify(path), path]));
  return [...paths.values()];
}

describe('every method has a valid example', () => {
  it('the table of examples covers exactly the methods of the contract', () => {
    expect(Object.keys(VALID_ARGS).sort()).toEqual(Object.keys(bridgeContract).sort());
    expect([...METHOD_NAMES].sort()).toEqual(Object.keys(bridgeContract).sort());
  });

  it.each(METHOD_NAMES)('%s: the example parses', (name) => {
    const parsed = argsOf(name).safeParse(VALID_ARGS[name]);
    expect(parsed.error?.issues).toBeUndefined();
  });

  it('methods without required arguments accept {}', () => {
    const takingEmpty = METHOD_NAMES.filter((name) => argsOf(name).safeParse({}).success);
    expect(takingEmpty.sort()).toEqual(
      [
        'app.info',
        'audit.verify',
        'auth.logout',
        'backup.start',
        'card.cancel',
        'card.read',
        'customers.list',
        'devices.list',
        'devices.status',
        'devices.testPrint',
        'float.ledger',
        'meters.list',
        'operators.list',
        'outlet.get',
        'outlet.update',
        'sales.search',
        'shift.open',
        'shift.xReport',
        'shift.zReports',
        'status.get',
        'sync.quarantine',
        'tariffs.list',
      ].sort(),
    );
  });
});

describe('bad arguments are refused', () => {
  it.each(METHOD_NAMES)('%s: an unknown field is refused (strict)', (name) => {
    const parsed = argsOf(name).safeParse({ ...VALID_ARGS[name], sessionOverride: 'admin' });
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['sessionOverride'], path: [] }),
    ]);
  });

  it.each(METHOD_NAMES)('%s: arguments that are not an object are refused', (name) => {
    for (const args of [null, 'args', 42, [VALID_ARGS[name]]]) refusedPaths(name, args);
  });

  it('unknown fields are refused when nested too', () => {
    expect(
      refusedPaths('sales.reverse', {
        ...VALID_ARGS['sales.reverse'],
        supervisor: { ...supervisor, role: 'admin' },
      }),
    ).toEqual([['supervisor']]);
    expect(
      refusedPaths('engineering.issue', {
        ...VALID_ARGS['engineering.issue'],
        token: { kind: 'clear-tamper', watts: 10 },
      }),
    ).toEqual([['token']]);
  });

  it('wrong types are refused, naming the field', () => {
    const vend = VALID_ARGS['vend.sell'];
    expect(refusedPaths('vend.sell', { ...vend, tenderMinor: '10000' })).toEqual([['tenderMinor']]);
    expect(refusedPaths('vend.sell', { ...vend, meterNumber: 1123456789 })).toEqual([['meterNumber']]);
    expect(refusedPaths('vend.sell', { ...vend, payType: 'cheque' })).toEqual([['payType']]);
    expect(refusedPaths('auth.login', { username: 'cashier' })).toEqual([['password']]);
    expect(refusedPaths('auth.setLanguage', { language: 'de' })).toEqual([['language']]);
    expect(refusedPaths('shift.reprintZ', { reportNo: '3' })).toEqual([['reportNo']]);
    expect(refusedPaths('meters.update', { meterNo: '01123456789', blocked: 'yes' })).toEqual([['blocked']]);
    expect(refusedPaths('outlet.update', { receiptColumns: 40 })).toEqual([['receiptColumns']]);
    expect(refusedPaths('operators.add', { ...VALID_ARGS['operators.add'], role: 'owner' })).toEqual([
      ['role'],
    ]);
    expect(refusedPaths('import.csv', { ...VALID_ARGS['import.csv'], dryRun: 'false' })).toEqual([
      ['dryRun'],
    ]);
    expect(refusedPaths('sales.search', { fromDate: '10/03/2026' })).toEqual([['fromDate']]);
    expect(refusedPaths('shift.zReports', { limit: 501 })).toEqual([['limit']]);
    expect(
      refusedPaths('engineering.issue', {
        ...VALID_ARGS['engineering.issue'],
        token: { kind: 'set-power-limit', watts: 70_000 },
      }),
    ).toEqual([['token', 'watts']]);
  });

  it('money as a float is refused', () => {
    expect(refusedPaths('vend.sell', { ...VALID_ARGS['vend.sell'], tenderMinor: 100.5 })).toEqual([
      ['tenderMinor'],
    ]);
    expect(refusedPaths('vend.quote', { ...VALID_ARGS['vend.quote'], tenderMinor: 0.1 })).toEqual([
      ['tenderMinor'],
    ]);
    expect(refusedPaths('shift.close', { declaredCashMinor: 1542.5 })).toEqual([['declaredCashMinor']]);
    expect(refusedPaths('float.topUp', { ...VALID_ARGS['float.topUp'], amountMinor: 5_000.25 })).toEqual([
      ['amountMinor'],
    ]);
    expect(refusedPaths('outlet.update', { lowFloatThresholdMinor: 99.9 })).toEqual([
      ['lowFloatThresholdMinor'],
    ]);
    // Beyond the safe integers, money can no longer be counted exactly.
    expect(
      refusedPaths('vend.sell', { ...VALID_ARGS['vend.sell'], tenderMinor: Number.MAX_SAFE_INTEGER + 1 }),
    ).toEqual([['tenderMinor']]);
  });

  it('negative money is refused where money only comes in', () => {
    expect(refusedPaths('vend.sell', { ...VALID_ARGS['vend.sell'], tenderMinor: -1 })).toEqual([
      ['tenderMinor'],
    ]);
    expect(refusedPaths('vend.quote', { ...VALID_ARGS['vend.quote'], tenderMinor: -10_000 })).toEqual([
      ['tenderMinor'],
    ]);
    expect(refusedPaths('shift.close', { declaredCashMinor: -100 })).toEqual([['declaredCashMinor']]);
    expect(refusedPaths('float.topUp', { ...VALID_ARGS['float.topUp'], amountMinor: 0 })).toEqual([
      ['amountMinor'],
    ]);
    expect(argsOf('vend.sell').safeParse({ ...VALID_ARGS['vend.sell'], tenderMinor: 0 }).success).toBe(true);
  });

  it.each(METHOD_NAMES.filter((name) => 'requestId' in VALID_ARGS[name]))(
    '%s: a request id under 8 characters (after trimming) is refused',
    (name) => {
      const args = VALID_ARGS[name];
      expect(refusedPaths(name, { ...args, requestId: '1234567' })).toEqual([['requestId']]);
      expect(refusedPaths(name, { ...args, requestId: '  1234567  ' })).toEqual([['requestId']]);
      expect(refusedPaths(name, { ...args, requestId: 'x'.repeat(101) })).toEqual([['requestId']]);
      expect(argsOf(name).parse({ ...args, requestId: ' 12345678 ' })).toMatchObject({
        requestId: '12345678',
      });
    },
  );

  it('every method that issues tokens or moves money carries a request id', () => {
    expect(METHOD_NAMES.filter((name) => 'requestId' in VALID_ARGS[name]).sort()).toEqual(
      ['engineering.issue', 'engineering.keyChange', 'float.topUp', 'sales.reverse', 'vend.sell'].sort(),
    );
  });
});

describe('defaults', () => {
  it('lists default to 50 rows from the start', () => {
    expect(bridgeContract['shift.zReports'].args.parse({})).toEqual({ limit: 50 });
    expect(bridgeContract['float.ledger'].args.parse({})).toEqual({ limit: 50, offset: 0 });
    expect(bridgeContract['sales.search'].args.parse({})).toEqual({ limit: 50, offset: 0 });
    expect(bridgeContract['meters.list'].args.parse({})).toEqual({ query: '', limit: 50, offset: 0 });
    expect(bridgeContract['customers.list'].args.parse({ query: '  ACC1001 ' })).toEqual({
      query: 'ACC1001',
      limit: 50,
      offset: 0,
    });
  });

  it('a sale is paid in cash unless said otherwise, and trimmed', () => {
    const { payType: _payType, ...withoutPayType } = VALID_ARGS['vend.sell'];
    expect(
      bridgeContract['vend.sell'].args.parse({ ...withoutPayType, meterNumber: ' 01123456789 ' }),
    ).toEqual({ ...withoutPayType, payType: 'cash' });
  });

  it('a reversal note defaults to empty', () => {
    const { note: _note, ...withoutNote } = VALID_ARGS['sales.reverse'];
    expect(bridgeContract['sales.reverse'].args.parse(withoutNote)).toEqual({ ...withoutNote, note: '' });
  });
});

describe('access', () => {
  const permissions = Object.keys(PERMISSIONS);

  it.each(METHOD_NAMES)("%s: access is 'public', 'session' or a permission of roles.ts", (name) => {
    expect(['public', 'session', ...permissions]).toContain(bridgeContract[name].access);
  });

  it('only app.info and auth.login are public', () => {
    expect(METHOD_NAMES.filter((name) => bridgeContract[name].access === 'public').sort()).toEqual([
      'app.info',
      'auth.login',
    ]);
  });
});
