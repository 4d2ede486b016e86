import { randomInt } from 'node:crypto';
import type Database from 'better-sqlite3';
import { StsError } from '../../src-shared/sts/errors.ts';
import {
  assertKeyNotExpired,
  nextIssuableTid,
  tidFromWallClock,
  type WallClock,
  wallClockInZone,
} from '../../src-shared/sts/tid.ts';
import { groupTokenDigits } from '../../src-shared/sts/token-number.ts';
import type { TokenPayload } from '../../src-shared/sts/token-payload.ts';
import { type PriceBreakdown, priceVend, type TariffVersion } from '../../src-shared/vending/pricing.ts';
import type { Receipt } from '../../src-shared/vending/receipt.ts';
import type { Ledger } from '../ledger/database.ts';
import type { MeterKeyData, SecurityModule } from '../security/security-module.ts';
import { appendAudit } from './audit-log.ts';
import { EngineError } from './errors.ts';
import { findMeter, type MeterRow, meterKeyData, pendingKeyData } from './meters.ts';
import { type OperatorSession, requirePermission } from './operators.ts';
import { buildReceipt } from './sale-receipt.ts';
import { tariffInForce } from './tariffs.ts';

export type Clock = () => Date;

export interface UtilityInfo {
  name: string;
  address: string;
  taxRef: string;
  currencyCode: string;
  currencyMinorUnits: number;
  timeZone: string;
  receiptFooter: string;
}

export interface OutletInfo {
  code: string;
  name: string;
  address: string;
  terminalId: string;
  floatBalanceMinor: number;
  lowFloatThresholdMinor: number;
}

export interface MeterConfirmation {
  meterNo: string;
  pan: string;
  resource: MeterRow['meterType'];
  customer: { accountNo: string; name: string; address: string; phone: string; location: string } | null;
  sgc: string;
  ti: number;
  krn: number;
  keyType: number;
  ea: string;
  tariff: { code: string; name: string; version: number; kind: string };
  canVend: boolean;
  blockedReason: string | null;
  minVendMinor: number;
  maxVendMinor: number;
  arrearsMinor: number;
  fbeDue: boolean;
  daysSinceLastPurchase: number | null;
  monthToDateUnits: number;
  currentBlock: number;
  pendingKeyChange: { sgc: string; ti: number; krn: number; baseDate: number } | null;
}

export interface IssuedToken {
  seq: number;
  kind: 'key-change' | 'fbe' | 'credit' | 'free' | 'engineering';
  label: string;
  digits: string;
  display: string;
  tokenClass: number;
  subclass: number;
  tid: number | null;
  units: number | null;
}

export interface SaleResult {
  receiptNo: number;
  requestId: string;
  kind: string;
  createdAt: string;
  meterNo: string | null;
  tokens: IssuedToken[];
  breakdown: PriceBreakdown | null;
  floatBalanceMinor: number;
  lowFloat: boolean;
  receipt: Receipt;
  /** True when this call returned the stored result of an earlier identical request. */
  replayed?: boolean;
}

/** One token to issue within a sale; the TID is chosen by the engine. */
interface TokenPlanStep {
  kind: IssuedToken['kind'];
  label: string;
  payload: (tid: number) => TokenPayload;
  valueMinor: number;
  units: number | null;
}

export interface VendRequest {
  requestId: string;
  meterNumber: string;
  tenderMinor: number;
  payType?: 'cash' | 'card' | 'mobile' | 'other';
}

interface DebtRow {
  id: number;
  accountNo: string;
  description: string;
  balanceMinor: number;
  ruleKind: 'percent-of-tender' | 'fixed-per-vend' | 'fixed-per-month';
  ruleValue: number;
  recoveredMonth: string | null;
  recoveredThisMonthMinor: number;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const monthOf = (wall: WallClock) => `${pad(wall.year, 4)}-${pad(wall.month)}`;
const dateOf = (wall: WallClock) => `${monthOf(wall)}-${pad(wall.day)}`;

/**
 * The outlet's vend engine: one instance per open ledger. Every state change is one SQLite transaction
 * that also writes its audit entry and its sync outbox event; tokens are issued inside that transaction,
 * so a crash leaves either the whole sale or nothing.
 */
export class VendEngine {
  readonly #sqlite: Database.Database;
  readonly #security: SecurityModule;
  readonly #clock: Clock;
  readonly utility: UtilityInfo;

  constructor(ledger: Ledger, security: SecurityModule, clock: Clock = () => new Date()) {
    this.#sqlite = ledger.sqlite;
    this.#security = security;
    this.#clock = clock;
    const utility = this.#sqlite
      .prepare(
        'SELECT name, address, tax_ref AS taxRef, currency_code AS currencyCode, currency_minor_units AS currencyMinorUnits, time_zone AS timeZone, receipt_footer AS receiptFooter FROM utility WHERE id = 1',
      )
      .get() as UtilityInfo | undefined;
    if (!utility) {
      throw new EngineError(
        'VEND_INVALID_REQUEST',
        'This outlet is not set up yet: run openvend init (or openvend demo).',
        'no utility row',
      );
    }
    this.utility = utility;
  }

  get sqlite(): Database.Database {
    return this.#sqlite;
  }

  outlet(): OutletInfo {
    return this.#sqlite
      .prepare(
        'SELECT code, name, address, terminal_id AS terminalId, float_balance_minor AS floatBalanceMinor, low_float_threshold_minor AS lowFloatThresholdMinor FROM outlet WHERE id = 1',
      )
      .get() as OutletInfo;
  }

  #local(now: Date): WallClock {
    return wallClockInZone(now, this.utility.timeZone);
  }

  #debtFor(customerId: number | null): DebtRow | null {
    if (customerId === null) return null;
    return (
      (this.#sqlite
        .prepare(
          `SELECT id, account_no AS accountNo, description, balance_minor AS balanceMinor, rule_kind AS ruleKind, rule_value AS ruleValue,
            recovered_month AS recoveredMonth, recovered_this_month_minor AS recoveredThisMonthMinor
           FROM debt WHERE customer_id = ? AND balance_minor > 0 ORDER BY id LIMIT 1`,
        )
        .get(customerId) as DebtRow | undefined) ?? null
    );
  }

  #customer(customerId: number | null) {
    if (customerId === null) return null;
    return this.#sqlite
      .prepare(
        'SELECT account_no AS accountNo, name, address, phone, location, fbe_eligible AS fbeEligible FROM customer WHERE id = ?',
      )
      .get(customerId) as {
      accountNo: string;
      name: string;
      address: string;
      phone: string;
      location: string;
      fbeEligible: number;
    };
  }

  #monthToDate(meter: MeterRow, month: string): number {
    return meter.mtdMonth === month ? meter.mtdUnits : 0;
  }

  #priceRequest(meter: MeterRow, tariff: TariffVersion, tenderMinor: number, month: string) {
    const customer = this.#customer(meter.customerId);
    const debt = this.#debtFor(meter.customerId);
    return {
      tenderMinor,
      tariff,
      month,
      meter: {
        monthToDateUnits: this.#monthToDate(meter, month),
        lastPurchaseMonth: meter.lastPurchaseMonth,
        fbeIssuedThisMonth: meter.fbeLastMonth === month,
        fbeEligible: customer?.fbeEligible === 1,
      },
      debt: debt
        ? {
            accountNo: debt.accountNo,
            description: debt.description,
            balanceMinor: debt.balanceMinor,
            rule:
              debt.ruleKind === 'percent-of-tender'
                ? { kind: 'percent-of-tender' as const, bp: debt.ruleValue }
                : { kind: debt.ruleKind, amountMinor: debt.ruleValue },
            recoveredThisMonthMinor: debt.recoveredMonth === month ? debt.recoveredThisMonthMinor : 0,
          }
        : null,
    };
  }

  /** Everything the cashier checks before taking money. */
  confirmMeter(meterNumber: string): MeterConfirmation {
    const meter = findMeter(this.#sqlite, meterNumber);
    const now = this.#clock();
    const local = this.#local(now);
    const tariff = tariffInForce(this.#sqlite, meter.tariffId, dateOf(local));
    const customer = this.#customer(meter.customerId);
    const debt = this.#debtFor(meter.customerId);
    const month = monthOf(local);
    const mtd = this.#monthToDate(meter, month);
    const currentBlock = tariff.blocks.findIndex(
      (block) => block.upToUnits === null || mtd < block.upToUnits,
    );
    const pending = pendingKeyData(meter);
    return {
      meterNo: meter.meterNo,
      pan: meter.pan,
      resource: meter.meterType,
      customer: customer
        ? {
            accountNo: customer.accountNo,
            name: customer.name,
            address: customer.address,
            phone: customer.phone,
            location: customer.location,
          }
        : null,
      sgc: meter.sgc,
      ti: meter.ti,
      krn: meter.krn,
      keyType: meter.keyType,
      ea: meter.ea,
      tariff: { code: tariff.tariffId, name: tariff.name, version: tariff.version, kind: tariff.kind },
      canVend: !meter.blocked,
      blockedReason: meter.blocked ? (meter.blockedReason ?? 'blocked') : null,
      minVendMinor: tariff.minVendMinor,
      maxVendMinor: tariff.maxVendMinor,
      arrearsMinor: debt?.balanceMinor ?? 0,
      fbeDue: customer?.fbeEligible === 1 && tariff.fbeMonthlyUnits > 0 && meter.fbeLastMonth !== month,
      daysSinceLastPurchase: meter.lastPurchaseAt
        ? Math.floor((now.getTime() - Date.parse(meter.lastPurchaseAt)) / 86_400_000)
        : null,
      monthToDateUnits: mtd,
      currentBlock: currentBlock + 1,
      pendingKeyChange: pending
        ? { sgc: pending.sgc, ti: pending.ti, krn: pending.krn, baseDate: pending.baseDate }
        : null,
    };
  }

  #requireVendable(meter: MeterRow): void {
    if (meter.blocked) {
      throw new EngineError(
        'METER_BLOCKED',
        `Meter ${meter.meterNo} is blocked: ${meter.blockedReason ?? 'no reason given'}. Do not take money; refer the customer to the utility.`,
        `meter ${meter.pan} blocked`,
      );
    }
  }

  /** The full breakdown of a sale, without issuing a token or moving money (trial vend). */
  quote(
    session: OperatorSession,
    meterNumber: string,
    tenderMinor: number,
  ): { confirmation: MeterConfirmation; breakdown: PriceBreakdown } {
    requirePermission(session, 'sell');
    const confirmation = this.confirmMeter(meterNumber);
    const meter = findMeter(this.#sqlite, meterNumber);
    this.#requireVendable(meter);
    const local = this.#local(this.#clock());
    const tariff = tariffInForce(this.#sqlite, meter.tariffId, dateOf(local));
    return {
      confirmation,
      breakdown: priceVend(this.#priceRequest(meter, tariff, tenderMinor, monthOf(local))),
    };
  }

  #storedResult(requestId: string): { result: SaleResult; fingerprint: string } | null {
    const row = this.#sqlite
      .prepare('SELECT result_json AS resultJson FROM sale WHERE request_id = ?')
      .get(requestId) as { resultJson: string } | undefined;
    if (!row) return null;
    const stored = JSON.parse(row.resultJson) as SaleResult & { fingerprint: string };
    const { fingerprint, ...result } = stored;
    return { result: { ...result, replayed: true }, fingerprint };
  }

  #replayOrConflict(requestId: string, fingerprint: string): SaleResult | null {
    const stored = this.#storedResult(requestId);
    if (!stored) return null;
    if (stored.fingerprint !== fingerprint) {
      throw new EngineError(
        'VEND_REQUEST_CONFLICT',
        'This request number was already used for a different sale. Start a new sale.',
        `request ${requestId}: stored ${stored.fingerprint}, got ${fingerprint}`,
      );
    }
    return stored.result;
  }

  #openShiftId(session: OperatorSession): number {
    const row = this.#sqlite
      .prepare('SELECT id FROM shift WHERE operator_id = ? AND closed_at IS NULL')
      .get(session.id) as { id: number } | undefined;
    if (!row) {
      throw new EngineError(
        'SHIFT_NOT_OPEN',
        'Open a shift before selling (openvend shift open).',
        `operator ${session.username} has no open shift`,
      );
    }
    return row.id;
  }

  #nextCounter(name: string): number {
    return (
      this.#sqlite
        .prepare('UPDATE counter SET value = value + 1 WHERE name = ? RETURNING value')
        .get(name) as { value: number }
    ).value;
  }

  /**
   * Issues the tokens of one sale for one meter, in entry order: the pending key change first, then FBE,
   * then credit. TIDs strictly increase per meter; after a base-date move (RO = 1) they restart under the
   * new base date.
   */
  #issueTokens(
    meter: MeterRow,
    now: Date,
    plan: TokenPlanStep[],
    withPendingKeyChange: boolean,
  ): { tokens: IssuedToken[]; key: MeterKeyData; lastTid: number | null } {
    const tokens: IssuedToken[] = [];
    let key = meterKeyData(meter);
    let lastTid = meter.lastTid;
    const pending = withPendingKeyChange ? pendingKeyData(meter) : null;
    if (pending) {
      const rollover = pending.baseDate !== key.baseDate;
      const set = this.#security.issueKeyChange(key, pending, rollover, now);
      for (const [index, token] of set.entries()) {
        tokens.push({
          seq: tokens.length + 1,
          kind: 'key-change',
          label: `KEY CHANGE TOKEN ${index + 1} OF ${set.length}`,
          digits: token.digits,
          display: groupTokenDigits(token.digits),
          tokenClass: token.tokenClass,
          subclass: token.subclass,
          tid: null,
          units: null,
        });
      }
      key = pending;
      if (rollover) lastTid = null;
    }
    const wall = this.#local(now);
    for (const step of plan) {
      let tid: number;
      try {
        tid = nextIssuableTid(tidFromWallClock(wall, key.baseDate), key.baseDate, lastTid ?? undefined);
      } catch (error) {
        if (error instanceof StsError && error.code === 'STS_TID_ROLLOVER') {
          throw new EngineError(
            'METER_NEEDS_KEY_CHANGE',
            `Meter ${meter.meterNo} has passed the end of its base date ${key.baseDate}: it needs a key change (TID roll-over) before it can be vended. Ask an engineer to schedule it.`,
            error.detail,
          );
        }
        throw error;
      }
      assertKeyNotExpired(tid, key.ken);
      const token = this.#security.issueToken(key, step.payload(tid), step.valueMinor, now);
      tokens.push({
        seq: tokens.length + 1,
        kind: step.kind,
        label: step.label,
        digits: token.digits,
        display: groupTokenDigits(token.digits),
        tokenClass: token.tokenClass,
        subclass: token.subclass,
        tid,
        units: step.units,
      });
      lastTid = tid;
    }
    return { tokens, key, lastTid };
  }

  #insertTokens(saleId: number, meterId: number | null, tokens: IssuedToken[]): void {
    const insert = this.#sqlite.prepare(
      'INSERT INTO token (sale_id, seq, meter_id, kind, digits, token_class, subclass, tid, units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const t of tokens)
      insert.run(saleId, t.seq, meterId, t.kind, t.digits, t.tokenClass, t.subclass, t.tid, t.units);
  }

  #moveFloat(now: Date, kind: string, amountMinor: number, saleId: number | null, reference: string): number {
    const { balance } = this.#sqlite
      .prepare(
        'UPDATE outlet SET float_balance_minor = float_balance_minor + ? WHERE id = 1 RETURNING float_balance_minor AS balance',
      )
      .get(amountMinor) as { balance: number };
    this.#sqlite
      .prepare(
        'INSERT INTO float_movement (created_at, kind, amount_minor, balance_after_minor, sale_id, reference) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(now.toISOString(), kind, amountMinor, balance, saleId, reference);
    return balance;
  }

  #outbox(now: Date, eventType: string, payload: unknown): void {
    this.#sqlite
      .prepare('INSERT INTO outbox (created_at, event_type, payload_json) VALUES (?, ?, ?)')
      .run(now.toISOString(), eventType, JSON.stringify(payload));
  }

  /** Money in, tokens out, exactly once per request id (a repeated id returns the original result). */
  vend(session: OperatorSession, request: VendRequest): SaleResult {
    requirePermission(session, 'sell');
    if (!/^[A-Za-z0-9._:-]{8,64}$/.test(request.requestId)) {
      throw new EngineError(
        'VEND_INVALID_REQUEST',
        'The sale has no valid request number.',
        `request id ${JSON.stringify(request.requestId)}`,
      );
    }
    if (!Number.isSafeInteger(request.tenderMinor) || request.tenderMinor <= 0) {
      throw new EngineError(
        'VEND_INVALID_REQUEST',
        'The amount must be more than zero.',
        `tender ${request.tenderMinor}`,
      );
    }
    const fingerprint = JSON.stringify([
      'vend',
      request.meterNumber.replace(/[\s-]/g, ''),
      request.tenderMinor,
      session.id,
    ]);
    const earlier = this.#replayOrConflict(request.requestId, fingerprint);
    if (earlier) return earlier;

    return this.#sqlite
      .transaction((): SaleResult => {
        // Re-check inside the write lock: another engine instance may have recorded the same request meanwhile.
        const raced = this.#replayOrConflict(request.requestId, fingerprint);
        if (raced) return raced;
        const now = this.#clock();
        const local = this.#local(now);
        const month = monthOf(local);
        const shiftId = this.#openShiftId(session);
        const meter = findMeter(this.#sqlite, request.meterNumber);
        this.#requireVendable(meter);
        const tariff = tariffInForce(this.#sqlite, meter.tariffId, dateOf(local));
        const priceRequest = this.#priceRequest(meter, tariff, request.tenderMinor, month);
        const breakdown = priceVend(priceRequest);
        const takenMinor = request.tenderMinor - breakdown.changeMinor;
        const outlet = this.outlet();
        if (outlet.floatBalanceMinor < takenMinor) {
          throw new EngineError(
            'VEND_FLOAT_INSUFFICIENT',
            'The outlet float is too low for this sale. Top up the float, or sell a smaller amount.',
            `float ${outlet.floatBalanceMinor} < ${takenMinor}`,
          );
        }
        const resource = meter.meterType;
        const plan: TokenPlanStep[] = [];
        if (breakdown.fbe) {
          const fbeUnits = breakdown.fbe.units;
          plan.push({
            kind: 'fbe',
            label: 'FREE BASIC ELECTRICITY',
            valueMinor: 0,
            units: fbeUnits,
            payload: (tid) => ({
              type: 'transfer-credit',
              resource,
              rnd: randomNibble(),
              tid,
              units: fbeUnits,
            }),
          });
        }
        plan.push({
          kind: 'credit',
          label: 'CREDIT TOKEN',
          valueMinor: breakdown.energyMoneyMinor - breakdown.changeMinor,
          units: breakdown.units,
          payload: (tid) => ({
            type: 'transfer-credit',
            resource,
            rnd: randomNibble(),
            tid,
            units: breakdown.units,
          }),
        });
        const issued = this.#issueTokens(meter, now, plan, true);

        const receiptNo = this.#nextCounter('receipt');
        const saleId = this.#insertSale({
          requestId: request.requestId,
          receiptNo,
          kind: 'sale',
          meterId: meter.id,
          operatorId: session.id,
          shiftId,
          now,
          payType: request.payType ?? 'cash',
          breakdown,
        });
        this.#insertSaleLines(saleId, breakdown);
        this.#insertTokens(saleId, meter.id, issued.tokens);
        this.#updateMeterAfterSale(meter, issued, breakdown, month, now);
        if (breakdown.debt && priceRequest.debt)
          this.#recoverDebt(meter.customerId!, breakdown.debt.amountMinor, month);
        const floatBalanceMinor = this.#moveFloat(now, 'sale', -takenMinor, saleId, `receipt ${receiptNo}`);
        const customer = this.#customer(meter.customerId);
        const pending = pendingKeyData(meter);
        const receipt = buildReceipt({
          title: 'CREDIT VEND - TAX INVOICE',
          utility: this.utility,
          outlet,
          operatorName: session.displayName,
          receiptNo,
          localTime: local,
          meter,
          customer,
          tariffName: tariff.name,
          tokens: issued.tokens,
          breakdown,
          payType: request.payType ?? 'cash',
          keyChange: pending
            ? {
                from: { sgc: meter.sgc, krn: meter.krn, ti: meter.ti },
                to: { sgc: pending.sgc, krn: pending.krn, ti: pending.ti },
              }
            : null,
          messages: breakdown.fbe ? ['Your free basic electricity for this month is included.'] : [],
        });
        const result: SaleResult = {
          receiptNo,
          requestId: request.requestId,
          kind: 'sale',
          createdAt: now.toISOString(),
          meterNo: meter.meterNo,
          tokens: issued.tokens,
          breakdown,
          floatBalanceMinor,
          lowFloat: floatBalanceMinor < outlet.lowFloatThresholdMinor,
          receipt,
        };
        this.#finishSale(saleId, result, fingerprint, session, now, {
          meter: meter.pan,
          tender: request.tenderMinor,
        });
        return result;
      })
      .immediate();
  }

  /** A past receipt, marked COPY; every reprint is audited. */
  reprint(session: OperatorSession, receiptNo: number): SaleResult {
    requirePermission(session, 'reprint');
    return this.#sqlite
      .transaction((): SaleResult => {
        const row = this.#sqlite
          .prepare('SELECT result_json AS resultJson FROM sale WHERE receipt_no = ?')
          .get(receiptNo) as { resultJson: string } | undefined;
        if (!row)
          throw new EngineError(
            'VEND_NOT_FOUND',
            `There is no receipt number ${receiptNo}.`,
            `receipt ${receiptNo} not found`,
          );
        const { fingerprint: _fingerprint, ...stored } = JSON.parse(row.resultJson) as SaleResult & {
          fingerprint: string;
        };
        appendAudit(
          this.#sqlite,
          {
            operatorId: session.id,
            action: 'sale.reprint',
            entity: 'sale',
            entityId: String(receiptNo),
            details: {},
          },
          this.#clock(),
        );
        return {
          ...stored,
          receipt: { ...stored.receipt, header: { ...stored.receipt.header, copy: true } },
        };
      })
      .immediate();
  }

  #insertSale(s: {
    requestId: string;
    receiptNo: number;
    kind: string;
    meterId: number | null;
    operatorId: number;
    shiftId: number | null;
    now: Date;
    payType: string;
    breakdown: PriceBreakdown | null;
    reversesSaleId?: number;
    reasonCode?: string;
  }): number {
    const b = s.breakdown;
    const t = b ? saleTotals(b) : undefined;
    const sign = s.kind === 'reversal' ? -1 : 1;
    return Number(
      this.#sqlite
        .prepare(
          `INSERT INTO sale (request_id, receipt_no, kind, meter_id, operator_id, shift_id, created_at, pay_type, tender_minor, charges_minor,
            debt_minor, levies_minor, vat_minor, energy_minor, change_minor, units, fbe_units, reverses_sale_id, reason_code, result_json)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')`,
        )
        .run(
          s.requestId,
          s.receiptNo,
          s.kind,
          s.meterId,
          s.operatorId,
          s.shiftId,
          s.now.toISOString(),
          s.payType,
          b?.tenderMinor ?? 0,
          sign * (t?.chargesMinor ?? 0),
          sign * (t?.debtMinor ?? 0),
          sign * (t?.leviesMinor ?? 0),
          sign * (t?.vatMinor ?? 0),
          sign * (t?.energyMinor ?? 0),
          b?.changeMinor ?? 0,
          sign * (b?.units ?? 0),
          sign * (b?.fbe?.units ?? 0),
          s.reversesSaleId ?? null,
          s.reasonCode ?? null,
        ).lastInsertRowid,
    );
  }

  #insertSaleLines(saleId: number, b: PriceBreakdown, sign = 1): void {
    const insert = this.#sqlite.prepare(
      'INSERT INTO sale_line (sale_id, kind, description, amount_minor, vat_minor, units) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const c of b.fixedCharges)
      insert.run(
        saleId,
        'fixed-charge',
        `${c.description} (${c.months} month(s))`,
        sign * c.netMinor,
        sign * c.vatMinor,
        0,
      );
    if (b.debt) insert.run(saleId, 'debt', b.debt.description, sign * b.debt.amountMinor, 0, 0);
    for (const l of b.levies) insert.run(saleId, 'levy', l.name, sign * l.amountMinor, 0, 0);
    insert.run(saleId, 'vat', `VAT ${b.vat.rateBp / 100}%`, sign * b.vat.amountMinor, 0, 0);
    insert.run(saleId, 'energy', 'Energy', sign * b.energyMinor, 0, sign * b.units);
    if (b.changeMinor) insert.run(saleId, 'change', 'Change', sign * b.changeMinor, 0, 0);
  }

  #updateMeterAfterSale(
    meter: MeterRow,
    issued: { key: MeterKeyData; lastTid: number | null },
    b: PriceBreakdown,
    month: string,
    now: Date,
  ): void {
    this.#sqlite
      .prepare(
        `UPDATE meter SET sgc = ?, ti = ?, krn = ?, base_date = ?, pending_sgc = NULL, pending_ti = NULL, pending_krn = NULL, pending_base_date = NULL,
          last_tid = ?, mtd_month = ?, mtd_units = ?, last_purchase_at = ?, last_purchase_month = ?, fbe_last_month = CASE WHEN ? THEN ? ELSE fbe_last_month END
         WHERE id = ?`,
      )
      .run(
        issued.key.sgc,
        issued.key.ti,
        issued.key.krn,
        issued.key.baseDate,
        issued.lastTid,
        month,
        b.monthToDateUnitsAfter,
        now.toISOString(),
        month,
        b.fbe ? 1 : 0,
        month,
        meter.id,
      );
  }

  #recoverDebt(customerId: number, amountMinor: number, month: string): void {
    const debt = this.#debtFor(customerId);
    if (!debt || amountMinor <= 0) return;
    const already = debt.recoveredMonth === month ? debt.recoveredThisMonthMinor : 0;
    this.#sqlite
      .prepare(
        'UPDATE debt SET balance_minor = balance_minor - ?, recovered_month = ?, recovered_this_month_minor = ? WHERE id = ?',
      )
      .run(amountMinor, month, already + amountMinor, debt.id);
  }

  #finishSale(
    saleId: number,
    result: SaleResult,
    fingerprint: string,
    session: OperatorSession,
    now: Date,
    details: Record<string, unknown>,
  ): void {
    this.#sqlite
      .prepare('UPDATE sale SET result_json = ? WHERE id = ?')
      .run(JSON.stringify({ ...result, fingerprint }), saleId);
    appendAudit(
      this.#sqlite,
      {
        operatorId: session.id,
        action: `sale.${result.kind}`,
        entity: 'sale',
        entityId: String(result.receiptNo),
        details: { ...details, tokens: result.tokens.length },
      },
      now,
    );
    this.#outbox(now, `sale.${result.kind}`, {
      receiptNo: result.receiptNo,
      requestId: result.requestId,
      saleId,
      result,
    });
  }
}

/** The sale row's money columns; with the change they add up to the tender exactly. */
export function saleTotals(b: PriceBreakdown) {
  return {
    chargesMinor: b.fixedCharges.reduce((sum, c) => sum + c.netMinor, 0),
    debtMinor: b.debt?.amountMinor ?? 0,
    leviesMinor: b.levies.reduce((sum, l) => sum + l.amountMinor, 0),
    vatMinor: b.totalVatMinor,
    energyMinor: b.energyMinor,
  };
}

/** RND: a fresh 4-bit random number per token. */
const randomNibble = (): number => randomInt(16);
