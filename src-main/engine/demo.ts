import type Database from 'better-sqlite3';
import { luhnCheckDigit } from '../../src-shared/sts/meter-pan.ts';
import type { Role } from '../../src-shared/vending/roles.ts';
import { openLedger } from '../ledger/database.ts';
import { createKekFile, kekFromEnvironmentOrFile } from '../security/key-encryption-key.ts';
import { appendAudit } from './audit-log.ts';
import { FLOAT_TOP_UP_KIND, moveFloat } from './float.ts';
import {
  addCustomer,
  addMeter,
  addOperator,
  addSupplyGroup,
  addTariff,
  initialiseOutlet,
  type TariffVersionInput,
} from './master-data.ts';

/** Demo operators; their passwords are printed by `openvend demo` (demo data only). */
export const DEMO_OPERATORS: Array<{ username: string; displayName: string; role: Role; password: string }> =
  [
    { username: 'admin', displayName: 'Thandi Admin', role: 'admin', password: 'demo-admin-pass' },
    { username: 'super', displayName: 'Sipho Supervisor', role: 'supervisor', password: 'demo-super-pass' },
    { username: 'cashier', displayName: 'Lerato Cashier', role: 'cashier', password: 'demo-cashier-pass' },
    {
      username: 'engineer',
      displayName: 'Pieter Engineer',
      role: 'engineer',
      password: 'demo-engineer-pass',
    },
  ];

const FIRST_NAMES = [
  'Nomsa',
  'Johan',
  'Ayanda',
  'Fatima',
  'Kagiso',
  'Mpho',
  'Anele',
  'Ruth',
  'Bongani',
  'Chantel',
  'Dumisani',
  'Elena',
];
const SURNAMES = [
  'Dlamini',
  'van Wyk',
  'Naidoo',
  'Mokoena',
  'Botha',
  'Khumalo',
  'Pillay',
  'Nkosi',
  'Jacobs',
  'Mahlangu',
];
const STREETS = [
  'Church Street',
  'Main Road',
  'Voortrekker Road',
  'Mandela Drive',
  'Jacaranda Avenue',
  'Long Street',
];

/** Demo meter PAN: IIN 600727 + an 11-digit DRN + check digit. */
export const demoPan = (n: number): string => {
  const body = `600727${String(4_040_000_000 + n).padStart(11, '0')}`;
  return body + luhnCheckDigit(body);
};

const ibt: TariffVersionInput = {
  effectiveFromLocal: '2020-01-01',
  kind: 'inclining-block',
  blocks: [
    { upToUnits: 500, rateMilliMinorPerKwh: 150_000 },
    { upToUnits: 3500, rateMilliMinorPerKwh: 210_000 },
    { upToUnits: 6000, rateMilliMinorPerKwh: 285_000 },
    { upToUnits: null, rateMilliMinorPerKwh: 330_000 },
  ],
  vatRateBp: 1500,
  pricesIncludeVat: true,
  fixedCharge: { description: 'Service charge', amountMinor: 2500, maxMonths: 3 },
  levies: [],
  fbeMonthlyUnits: 500,
  minVendMinor: 1000,
  maxVendMinor: 500_000,
};

const flat: TariffVersionInput = {
  effectiveFromLocal: '2020-01-01',
  kind: 'flat',
  blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 245_000 }],
  vatRateBp: 1500,
  pricesIncludeVat: true,
  fixedCharge: null,
  levies: [],
  fbeMonthlyUnits: 0,
  minVendMinor: 500,
  maxVendMinor: 1_000_000,
};

/**
 * Seeds a believable outlet: a utility, two supply groups (DKGA02/EA07 and DKGA04/EA11), a flat and an
 * inclining-block tariff, 24 customers and meters (arrears, one blocked, one due a TID roll-over key
 * change, FBE households) and one operator of each role. Test vending keys only.
 */
export function seedDemo(sqlite: Database.Database, kek: Buffer, now: Date): { meters: string[] } {
  initialiseOutlet(
    sqlite,
    {
      name: 'Mzansi Municipal Electricity',
      address: '1 Civic Centre, Polokwane 0699',
      taxRef: 'VAT 4000123456',
      currencyCode: 'ZAR',
      currencyMinorUnits: 2,
      timeZone: 'Africa/Johannesburg',
      receiptFooter: 'Thank you. Enquiries: 0800 123 456.',
    },
    {
      code: 'OUT-001',
      name: 'Seshego Spaza Vending',
      address: '12 Zone 1, Seshego',
      terminalId: 'T0001',
      lowFloatThresholdMinor: 100_000,
      authorityCreditLimitMinor: 1_000_000_000,
      authorityValidUntil: new Date(now.getTime() + 365 * 86_400_000).toISOString(),
    },
    now,
  );
  const groups = [
    {
      sgc: '123456',
      name: 'Seshego (EA07)',
      keyType: 2,
      krn: 1,
      baseDate: 2014,
      dkga: 'DKGA02',
      ea: 'EA07',
      ken: 255,
      vendingKeyHex: 'abababababababab',
    },
    {
      sgc: '123456',
      name: 'Seshego (EA07) KRN 2',
      keyType: 2,
      krn: 2,
      baseDate: 2014,
      dkga: 'DKGA02',
      ea: 'EA07',
      ken: 255,
      vendingKeyHex: 'cdcdcdcdcdcdcdcd',
    },
    {
      sgc: '123457',
      name: 'Polokwane CBD (EA11)',
      keyType: 2,
      krn: 1,
      baseDate: 2014,
      dkga: 'DKGA04',
      ea: 'EA11',
      ken: 255,
      vendingKeyHex: 'abababababababab949494949494949401234567',
    },
  ];
  for (const group of groups) addSupplyGroup(sqlite, kek, group, null, now);
  addTariff(
    sqlite,
    { code: 'IBT-DOM', name: 'Domestic Inclining Block', ti: 1, resource: 'electricity' },
    ibt,
    null,
    now,
  );
  addTariff(
    sqlite,
    { code: 'FLAT-BUS', name: 'Business Flat Rate', ti: 2, resource: 'electricity' },
    flat,
    null,
    now,
  );
  for (const operator of DEMO_OPERATORS) addOperator(sqlite, operator, null, now);

  const meters: string[] = [];
  sqlite.transaction(() => {
    for (let n = 1; n <= 24; n++) {
      const accountNo = `ACC${String(1000 + n)}`;
      const name = `${FIRST_NAMES[n % FIRST_NAMES.length]} ${SURNAMES[n % SURNAMES.length]}`;
      const customerId = addCustomer(sqlite, {
        accountNo,
        name,
        address: `${10 + n} ${STREETS[n % STREETS.length]}, Seshego`,
        phone: `+27 82 555 ${String(1000 + n)}`,
        location: `Erf ${200 + n}`,
        fbeEligible: n % 4 === 0,
      });
      const ea11 = n > 18;
      const pan = demoPan(n);
      meters.push(pan);
      addMeter(sqlite, {
        pan,
        meterType: 'electricity',
        customerAccountNo: accountNo,
        tariffCode: n % 5 === 0 ? 'FLAT-BUS' : 'IBT-DOM',
        sgc: ea11 ? '123457' : '123456',
        ti: n % 5 === 0 ? 2 : 1,
        krn: 1,
        keyType: 2,
        ea: ea11 ? 'EA11' : 'EA07',
        dkga: ea11 ? 'DKGA04' : 'DKGA02',
        // Base date 1993 ran out on 2024-11-24; only meter 3 still waits for its roll-over key change.
        baseDate: n === 3 ? 1993 : 2014,
        ken: 255,
      });
      if (n % 6 === 1) {
        sqlite
          .prepare(
            "INSERT INTO debt (customer_id, account_no, description, balance_minor, rule_kind, rule_value) VALUES (?, ?, 'Arrears', ?, ?, ?)",
          )
          .run(
            customerId,
            accountNo,
            15_000 + n * 1000,
            n % 12 === 1 ? 'percent-of-tender' : 'fixed-per-vend',
            n % 12 === 1 ? 2000 : 1500,
          );
      }
    }
    // Meter 7 is blocked (tamper reported); meter 3 is due its TID roll-over key change (base 1993 → 2014, KRN 1 → 2).
    sqlite
      .prepare(
        "UPDATE meter SET blocked = 1, blocked_reason = 'Tamper reported by field inspection' WHERE pan = ?",
      )
      .run(demoPan(7));
    sqlite
      .prepare('UPDATE meter SET pending_krn = 2, pending_base_date = 2014 WHERE pan = ?')
      .run(demoPan(3));
    moveFloat(sqlite, {
      now,
      kind: FLOAT_TOP_UP_KIND,
      amountMinor: 5_000_000,
      reference: 'demo opening float',
    });
    appendAudit(
      sqlite,
      {
        operatorId: null,
        action: 'demo.seed',
        entity: 'outlet',
        entityId: 'OUT-001',
        details: { meters: meters.length },
      },
      now,
    );
  })();
  return { meters };
}

/** A new outlet database in `dataDir` holding the demo data, with a new key-encryption key file unless OPENVEND_KEK is set. */
export function createDemoOutlet(dataDir: string, now: Date): { meters: string[] } {
  const ledger = openLedger(dataDir);
  try {
    if (!process.env.OPENVEND_KEK) createKekFile(dataDir);
    return seedDemo(ledger.sqlite, kekFromEnvironmentOrFile(dataDir).load(), now);
  } finally {
    ledger.close();
  }
}
