import { randomInt } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { IssuedToken, MeterConfirmation, SaleResult } from '../../src-shared/bridge/domain-schemas.ts';
import { StsError } from '../../src-shared/sts/errors.ts';
import {
  assertKeyNotExpired,
  nextIssuableTid,
  tidFromWallClock,
  type WallClock,
  wallClockInZone,
} from '../../src-shared/sts/tid.ts';
import type { EncodedToken } from '../../src-shared/sts/token-codec.ts';
import { groupTokenDigits } from '../../src-shared/sts/token-number.ts';
import type { DecodedBlock, TokenPayload } from '../../src-shared/sts/token-payload.ts';
import type { SaleLedgerRow } from '../../src-shared/sync/events.ts';
import {
  type PriceBreakdown,
  type PriceRequest,
  priceVend,
  type TariffVersion,
} from '../../src-shared/vending/pricing.ts';
import type { Ledger } from '../ledger/database.ts';
import type { MeterKeyData, SecurityModule } from '../security/security-module.ts';
import { appendAudit } from './audit-log.ts';
import { EngineError } from './errors.ts';
import { moveFloat } from './float.ts';
import { findMeter, type MeterRow, meterKeyData, pendingKeyData } from './meters.ts';
import { type OperatorSession, requirePermission } from './operators.ts';
import { buildReceipt, buildReceiptTime, formatReceiptNo } from './sale-receipt.ts';
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

/** One token to issue within a sale; the TID is chosen by the engine. */
interface TokenPlanStep {
  kind: IssuedToken['kind'];
  label: string;
  payload: (tid: number) => TokenPayload;
  valueMinor: number;
  units: number | null;
  /** Class 1 test tokens carry no TID (and use none of the meter's). */
  noTid?: boolean;
}

export type EngineeringTokenRequest =
  | { kind: 'clear-tamper' }
  | { kind: 'clear-credit'; register: 'electricity' | 'water' | 'gas' | 'all' }
  | { kind: 'set-power-limit'; watts: number }
  | { kind: 'set-phase-unbalance-limit'; watts: number }
  | { kind: 'test'; control: number; manufacturerCode?: number };

export const REVERSAL_REASONS = [
  'wrong-meter',
  'wrong-amount',
  'customer-cancelled',
  'duplicate-sale',
  'token-not-accepted',
  'other',
] as const;
export type ReversalReason = (typeof REVERSAL_REASONS)[number];

/** Issues that are not sales share this shape: which meter, why, and the request id that makes them idempotent. */
interface ServiceIssue {
  session: OperatorSession;
  requestId: string;
  fingerprint: string;
  kind: 'free-issue' | 'engineering' | 'key-change';
  title: string;
  meterNumber: string;
  plan: (meter: MeterRow) => TokenPlanStep[];
  keyChangeTo: (meter: MeterRow) => MeterKeyData | null;
  messages: string[];
  details: Record<string, unknown>;
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

  /** Reads a token with a meter key inside the security module (for the token explainer; no key leaves it). */
  readToken(key: MeterKeyData, digits: string): DecodedBlock {
    return this.#security.readToken(key, digits);
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

  /** Paid units this month at every outlet: this outlet's own, plus the others' as head office last told. */
  #monthToDate(meter: MeterRow, month: string): number {
    return this.#ownMonthToDate(meter, month) + this.#remoteMonthToDate(meter, month);
  }

  #ownMonthToDate(meter: MeterRow, month: string): number {
    return meter.mtdMonth === month ? meter.mtdUnits : 0;
  }

  #remoteMonthToDate(meter: MeterRow, month: string): number {
    return meter.mtdRemoteMonth === month ? Math.max(0, meter.mtdRemoteUnits) : 0;
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
    return this.#confirmation(meter, tariffInForce(this.#sqlite, meter.tariffId, dateOf(local)), now, local);
  }

  #confirmation(meter: MeterRow, tariff: TariffVersion, now: Date, local: WallClock): MeterConfirmation {
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
    const meter = findMeter(this.#sqlite, meterNumber);
    const now = this.#clock();
    const local = this.#local(now);
    const tariff = tariffInForce(this.#sqlite, meter.tariffId, dateOf(local));
    const confirmation = this.#confirmation(meter, tariff, now, local);
    this.#requireVendable(meter);
    const breakdown = priceVend(this.#priceRequest(meter, tariff, tenderMinor, monthOf(local)));
    this.#requireCanSell(breakdown, now);
    return { confirmation, breakdown };
  }

  /**
   * The outlet may make this sale: enough float for the money taken, and a vending authority that covers the
   * credit token. Checked by the trial vend too, so the cashier is warned before taking the money.
   */
  #requireCanSell(breakdown: PriceBreakdown, now: Date): void {
    const takenMinor = breakdown.tenderMinor - breakdown.changeMinor;
    const { floatBalanceMinor } = this.outlet();
    if (floatBalanceMinor < takenMinor) {
      throw new EngineError(
        'VEND_FLOAT_INSUFFICIENT',
        'The outlet float is too low for this sale. Top up the float, or sell a smaller amount.',
        `float ${floatBalanceMinor} < ${takenMinor}`,
      );
    }
    this.#security.checkAuthority(creditTokenValue(breakdown), now);
  }

  #storedResult(requestId: string): { result: SaleResult; fingerprint: string } | null {
    const row = this.#sqlite
      .prepare(
        'SELECT d.result_json AS resultJson FROM sale s JOIN sale_document d ON d.sale_id = s.id WHERE s.request_id = ?',
      )
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

  /**
   * Runs `body` once per request id: a repeated id returns the stored result (or a conflict if the request
   * differs). The check is repeated inside the write lock, where another engine instance cannot interleave.
   */
  #exactlyOnce(requestId: string, fingerprint: string, body: () => SaleResult): SaleResult {
    const earlier = this.#replayOrConflict(requestId, fingerprint);
    if (earlier) return earlier;
    return this.#sqlite
      .transaction((): SaleResult => this.#replayOrConflict(requestId, fingerprint) ?? body())
      .immediate();
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
    keyChangeTo: MeterKeyData | null,
  ): { tokens: IssuedToken[]; key: MeterKeyData; lastTid: number | null } {
    const tokens: IssuedToken[] = [];
    let key = meterKeyData(meter);
    const record = (
      kind: IssuedToken['kind'],
      label: string,
      token: EncodedToken,
      tid: number | null,
      units: number | null,
    ) =>
      tokens.push({
        seq: tokens.length + 1,
        kind,
        label,
        digits: token.digits,
        display: groupTokenDigits(token.digits),
        tokenClass: token.tokenClass,
        subclass: token.subclass,
        tid,
        baseDate: tid === null ? null : key.baseDate,
        units,
      });
    let lastTid = meter.lastTid;
    const pending = keyChangeTo;
    if (pending) {
      const rollover = pending.baseDate !== key.baseDate;
      const set = this.#security.issueKeyChange(key, pending, rollover, now);
      for (const [index, token] of set.entries()) {
        record('key-change', `KEY CHANGE TOKEN ${index + 1} OF ${set.length}`, token, null, null);
      }
      key = pending;
      if (rollover) lastTid = null;
    }
    const wall = this.#local(now);
    for (const step of plan) {
      if (step.noTid) {
        record(
          step.kind,
          step.label,
          this.#security.issueToken(key, step.payload(0), step.valueMinor, now),
          null,
          step.units,
        );
        continue;
      }
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
      record(
        step.kind,
        step.label,
        this.#security.issueToken(key, step.payload(tid), step.valueMinor, now),
        tid,
        step.units,
      );
      lastTid = tid;
    }
    return { tokens, key, lastTid };
  }

  #insertTokens(saleId: number, meterId: number | null, tokens: IssuedToken[]): void {
    const insert = this.#sqlite.prepare(
      'INSERT INTO token (sale_id, seq, meter_id, kind, digits, token_class, subclass, tid, base_date, units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const t of tokens)
      insert.run(
        saleId,
        t.seq,
        meterId,
        t.kind,
        t.digits,
        t.tokenClass,
        t.subclass,
        t.tid,
        t.baseDate,
        t.units,
      );
  }

  #moveFloat(now: Date, kind: string, amountMinor: number, saleId: number | null, reference: string): number {
    return moveFloat(this.#sqlite, { now, kind, amountMinor, saleId, reference });
  }

  #outbox(now: Date, eventType: string, payload: unknown): void {
    this.#sqlite
      .prepare('INSERT INTO outbox (created_at, event_type, payload_json) VALUES (?, ?, ?)')
      .run(now.toISOString(), eventType, JSON.stringify(payload));
  }

  /** Money in, tokens out, exactly once per request id (a repeated id returns the original result). */
  vend(session: OperatorSession, request: VendRequest): SaleResult {
    requirePermission(session, 'sell');
    requireRequestId(request.requestId);
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
      request.payType ?? 'cash',
      session.id,
    ]);
    return this.#exactlyOnce(request.requestId, fingerprint, (): SaleResult => {
      const now = this.#clock();
      const local = this.#local(now);
      const month = monthOf(local);
      const shiftId = this.#openShiftId(session);
      const meter = findMeter(this.#sqlite, request.meterNumber);
      this.#requireVendable(meter);
      const tariff = tariffInForce(this.#sqlite, meter.tariffId, dateOf(local));
      const priceRequest = this.#priceRequest(meter, tariff, request.tenderMinor, month);
      const breakdown = priceVend(priceRequest);
      this.#requireCanSell(breakdown, now);
      const takenMinor = request.tenderMinor - breakdown.changeMinor;
      const outlet = this.outlet();
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
        valueMinor: creditTokenValue(breakdown),
        units: breakdown.units,
        payload: (tid) => ({
          type: 'transfer-credit',
          resource,
          rnd: randomNibble(),
          tid,
          units: breakdown.units,
        }),
      });
      const issued = this.#issueTokens(meter, now, plan, pendingKeyData(meter));

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
      this.#finishSale(
        saleId,
        result,
        fingerprint,
        session,
        now,
        { meter: meter.pan, tender: request.tenderMinor },
        priceRequest,
      );
      return result;
    });
  }

  /** Free units (no money), e.g. a goodwill or replacement credit; supervisor or admin. */
  freeIssue(
    session: OperatorSession,
    request: { requestId: string; meterNumber: string; units: number; reason: string },
  ): SaleResult {
    requirePermission(session, 'freeIssue');
    if (!Number.isSafeInteger(request.units) || request.units <= 0) {
      throw new EngineError(
        'VEND_INVALID_REQUEST',
        'Give the free units as a positive number of 0.1 units.',
        `units ${request.units}`,
      );
    }
    if (!request.reason.trim())
      throw new EngineError('VEND_INVALID_REQUEST', 'A free issue needs a reason.', 'empty reason');
    return this.#issueService({
      session,
      requestId: request.requestId,
      fingerprint: JSON.stringify([
        'free',
        request.meterNumber.replace(/[\s-]/g, ''),
        request.units,
        session.id,
      ]),
      kind: 'free-issue',
      title: 'FREE ISSUE',
      meterNumber: request.meterNumber,
      keyChangeTo: pendingKeyData,
      plan: (meter) => [
        {
          kind: 'free',
          label: 'FREE ISSUE TOKEN',
          valueMinor: 0,
          units: request.units,
          payload: (tid) => ({
            type: 'transfer-credit',
            resource: meter.meterType,
            rnd: randomNibble(),
            tid,
            units: request.units,
          }),
        },
      ],
      messages: [`Free issue: ${request.reason.trim()}`],
      details: { units: request.units, reason: request.reason.trim() },
    });
  }

  /** Management and test tokens for field engineers (engineer or admin role). */
  engineeringToken(
    session: OperatorSession,
    request: { requestId: string; meterNumber: string; token: EngineeringTokenRequest },
  ): SaleResult {
    requirePermission(session, 'engineering');
    const t = request.token;
    const labels: Record<EngineeringTokenRequest['kind'], string> = {
      'clear-tamper': 'CLEAR TAMPER TOKEN',
      'clear-credit': 'CLEAR CREDIT TOKEN',
      'set-power-limit': 'SET POWER LIMIT TOKEN',
      'set-phase-unbalance-limit': 'SET PHASE UNBALANCE LIMIT TOKEN',
      test: 'TEST / DISPLAY TOKEN',
    };
    const registers = { electricity: 0, water: 1, gas: 2, all: 0xffff } as const;
    const payload = (tid: number): TokenPayload => {
      switch (t.kind) {
        case 'clear-tamper':
          return { type: 'clear-tamper', rnd: randomNibble(), tid, pad: 0 };
        case 'clear-credit':
          return { type: 'clear-credit', rnd: randomNibble(), tid, register: registers[t.register] };
        case 'set-power-limit':
          return { type: 'set-max-power-limit', rnd: randomNibble(), tid, watts: t.watts };
        case 'set-phase-unbalance-limit':
          return { type: 'set-max-phase-unbalance-limit', rnd: randomNibble(), tid, watts: t.watts };
        case 'test':
          return {
            type: 'initiate-test',
            manufacturerCodeDigits: 2,
            control: t.control,
            manufacturerCode: t.manufacturerCode ?? 0,
          };
      }
    };
    return this.#issueService({
      session,
      requestId: request.requestId,
      fingerprint: JSON.stringify(['engineering', request.meterNumber.replace(/[\s-]/g, ''), t, session.id]),
      kind: 'engineering',
      title: 'ENGINEERING TOKEN',
      meterNumber: request.meterNumber,
      keyChangeTo: () => null,
      plan: () => [
        {
          kind: 'engineering',
          label: labels[t.kind],
          valueMinor: 0,
          units: null,
          payload,
          noTid: t.kind === 'test',
        },
      ],
      messages: [],
      details: { token: t },
    });
  }

  /**
   * "Update meter key": the key change token set from the meter's present key to `to` (or to its pending
   * key change), with the entry order on the receipt. The meter's key data moves in the same transaction.
   */
  keyChange(
    session: OperatorSession,
    request: {
      requestId: string;
      meterNumber: string;
      to?: { sgc?: string; ti?: number; krn?: number; baseDate?: 1993 | 2014 | 2035 };
    },
  ): SaleResult {
    requirePermission(session, 'keyChange');
    return this.#issueService({
      session,
      requestId: request.requestId,
      fingerprint: JSON.stringify([
        'key-change',
        request.meterNumber.replace(/[\s-]/g, ''),
        request.to ?? 'pending',
        session.id,
      ]),
      kind: 'key-change',
      title: 'KEY CHANGE',
      meterNumber: request.meterNumber,
      keyChangeTo: (meter) => {
        const present = meterKeyData(meter);
        const target = request.to
          ? {
              ...present,
              sgc: request.to.sgc ?? present.sgc,
              ti: request.to.ti ?? present.ti,
              krn: request.to.krn ?? present.krn,
              baseDate: request.to.baseDate ?? present.baseDate,
            }
          : pendingKeyData(meter);
        if (!target) {
          throw new EngineError(
            'VEND_INVALID_REQUEST',
            'This meter has no key change scheduled; give the new key data.',
            `meter ${meter.pan}: no pending key change`,
          );
        }
        if (
          target.sgc === present.sgc &&
          target.ti === present.ti &&
          target.krn === present.krn &&
          target.baseDate === present.baseDate
        ) {
          throw new EngineError(
            'VEND_INVALID_REQUEST',
            'The meter already has this key.',
            `meter ${meter.pan}: key change to the same key data`,
          );
        }
        return target;
      },
      plan: () => [],
      messages: [],
      details: { to: request.to ?? 'pending' },
    });
  }

  #issueService(issue: ServiceIssue): SaleResult {
    requireRequestId(issue.requestId);
    return this.#exactlyOnce(issue.requestId, issue.fingerprint, (): SaleResult => {
      const now = this.#clock();
      const local = this.#local(now);
      const meter = findMeter(this.#sqlite, issue.meterNumber);
      if (issue.kind !== 'engineering' && issue.kind !== 'key-change') this.#requireVendable(meter);
      const target = issue.keyChangeTo(meter);
      const issued = this.#issueTokens(meter, now, issue.plan(meter), target);
      const receiptNo = this.#nextCounter('receipt');
      const shiftId =
        (
          this.#sqlite
            .prepare('SELECT id FROM shift WHERE operator_id = ? AND closed_at IS NULL')
            .get(issue.session.id) as { id: number } | undefined
        )?.id ?? null;
      const saleId = this.#insertSale({
        requestId: issue.requestId,
        receiptNo,
        kind: issue.kind,
        meterId: meter.id,
        operatorId: issue.session.id,
        shiftId,
        now,
        payType: 'none',
        breakdown: null,
      });
      const freeUnits = issued.tokens
        .filter((t) => t.kind === 'free')
        .reduce((sum, t) => sum + (t.units ?? 0), 0);
      if (freeUnits)
        this.#sqlite.prepare('UPDATE sale SET fbe_units = ? WHERE id = ?').run(freeUnits, saleId);
      this.#insertTokens(saleId, meter.id, issued.tokens);
      this.#sqlite
        .prepare(
          `UPDATE meter SET sgc = ?, ti = ?, krn = ?, base_date = ?, last_tid = ?,
              pending_sgc = CASE WHEN ? THEN NULL ELSE pending_sgc END, pending_ti = CASE WHEN ? THEN NULL ELSE pending_ti END,
              pending_krn = CASE WHEN ? THEN NULL ELSE pending_krn END, pending_base_date = CASE WHEN ? THEN NULL ELSE pending_base_date END
             WHERE id = ?`,
        )
        .run(
          issued.key.sgc,
          issued.key.ti,
          issued.key.krn,
          issued.key.baseDate,
          issued.lastTid,
          ...Array(4).fill(target ? 1 : 0),
          meter.id,
        );
      const outlet = this.outlet();
      const receipt = buildReceipt({
        title: issue.title,
        utility: this.utility,
        outlet,
        operatorName: issue.session.displayName,
        receiptNo,
        localTime: local,
        meter,
        customer: this.#customer(meter.customerId),
        tariffName: tariffInForce(this.#sqlite, meter.tariffId, dateOf(local)).name,
        tokens: issued.tokens,
        breakdown: null,
        payType: 'none',
        keyChange: target
          ? {
              from: { sgc: meter.sgc, krn: meter.krn, ti: meter.ti },
              to: { sgc: target.sgc, krn: target.krn, ti: target.ti },
            }
          : null,
        messages: issue.messages,
      });
      const result: SaleResult = {
        receiptNo,
        requestId: issue.requestId,
        kind: issue.kind,
        createdAt: now.toISOString(),
        meterNo: meter.meterNo,
        tokens: issued.tokens,
        breakdown: null,
        floatBalanceMinor: outlet.floatBalanceMinor,
        lowFloat: outlet.floatBalanceMinor < outlet.lowFloatThresholdMinor,
        receipt,
      };
      this.#finishSale(saleId, result, issue.fingerprint, issue.session, now, {
        meter: meter.pan,
        ...issue.details,
      });
      return result;
    });
  }

  /**
   * Reverses a sale with a compensating entry (never an update or delete of the original): negated money
   * lines, the float credited back, recovered arrears restored and the month-to-date units taken back.
   * Supervisor or admin only, with a reason. The token already issued cannot be recalled from the meter:
   * the receipt says so. Vending authority already used is not given back.
   */
  reverse(
    session: OperatorSession,
    request: {
      requestId: string;
      receiptNo: number;
      reason: ReversalReason;
      note?: string;
      /**
       * A supervisor approving a cashier's reversal on the spot: the credit note belongs to the cashier's shift
       * (the refund leaves the cashier's drawer), the approval to the supervisor (permission, audit, receipt).
       */
      approvedBy?: OperatorSession;
    },
  ): SaleResult {
    const approver = request.approvedBy ?? session;
    requirePermission(approver, 'reverse');
    requireRequestId(request.requestId);
    if (!REVERSAL_REASONS.includes(request.reason)) {
      throw new EngineError(
        'VEND_INVALID_REQUEST',
        `Choose a reason: ${REVERSAL_REASONS.join(', ')}.`,
        `reason ${JSON.stringify(request.reason)}`,
      );
    }
    const fingerprint = JSON.stringify([
      'reverse',
      request.receiptNo,
      request.reason,
      session.id,
      approver.id,
    ]);
    return this.#exactlyOnce(request.requestId, fingerprint, (): SaleResult => {
      const now = this.#clock();
      const local = this.#local(now);
      const original = this.#sqlite
        .prepare(
          'SELECT s.id, s.kind, s.meter_id AS meterId, s.created_at AS createdAt, d.result_json AS resultJson FROM sale s JOIN sale_document d ON d.sale_id = s.id WHERE s.receipt_no = ?',
        )
        .get(request.receiptNo) as
        | { id: number; kind: string; meterId: number; createdAt: string; resultJson: string }
        | undefined;
      if (!original)
        throw new EngineError(
          'VEND_NOT_FOUND',
          `There is no receipt number ${request.receiptNo}.`,
          `receipt ${request.receiptNo} not found`,
        );
      if (original.kind !== 'sale') {
        throw new EngineError(
          'VEND_INVALID_REQUEST',
          'Only a sale can be reversed.',
          `receipt ${request.receiptNo} is a ${original.kind}`,
        );
      }
      if (this.#sqlite.prepare('SELECT 1 FROM sale WHERE reverses_sale_id = ?').get(original.id)) {
        throw new EngineError(
          'VEND_ALREADY_REVERSED',
          `Receipt ${request.receiptNo} was already reversed.`,
          `sale ${original.id} already reversed`,
        );
      }
      const stored = JSON.parse(original.resultJson) as SaleResult;
      const b = stored.breakdown!;
      const shiftId = this.#openShiftId(session);
      const receiptNo = this.#nextCounter('receipt');
      const saleId = this.#insertSale({
        requestId: request.requestId,
        receiptNo,
        kind: 'reversal',
        meterId: original.meterId,
        operatorId: session.id,
        shiftId,
        now,
        payType: b
          ? (
              this.#sqlite.prepare('SELECT pay_type AS p FROM sale WHERE id = ?').get(original.id) as {
                p: string;
              }
            ).p
          : 'none',
        breakdown: { ...b, tenderMinor: 0, changeMinor: 0 },
        reversesSaleId: original.id,
        reasonCode: request.reason,
      });
      this.#insertSaleLines(saleId, { ...b, changeMinor: 0 }, -1);
      const refundMinor = b.tenderMinor - b.changeMinor;
      const floatBalanceMinor = this.#moveFloat(
        now,
        'reversal',
        refundMinor,
        saleId,
        `reverses receipt ${request.receiptNo}`,
      );
      const meter = this.#sqlite
        .prepare('SELECT customer_id AS customerId, mtd_month AS mtdMonth FROM meter WHERE id = ?')
        .get(original.meterId) as {
        customerId: number | null;
        mtdMonth: string | null;
      };
      if (meter.mtdMonth === b.month) {
        this.#sqlite
          .prepare('UPDATE meter SET mtd_units = MAX(0, mtd_units - ?) WHERE id = ?')
          .run(b.units, original.meterId);
      }
      if (b.debt && meter.customerId !== null) {
        this.#sqlite
          .prepare(
            `UPDATE debt SET balance_minor = balance_minor + ?,
                recovered_this_month_minor = CASE WHEN recovered_month = ? THEN MAX(0, recovered_this_month_minor - ?) ELSE recovered_this_month_minor END
               WHERE customer_id = ? AND account_no = ?`,
          )
          .run(b.debt.amountMinor, b.month, b.debt.amountMinor, meter.customerId, b.debt.accountNo);
      }
      const outlet = this.outlet();
      const receipt = {
        ...stored.receipt,
        header: {
          ...stored.receipt.header,
          title: 'REVERSAL - CREDIT NOTE',
          copy: false,
          receiptNo: formatReceiptNo(outlet.terminalId, receiptNo),
          operator: session.displayName,
        },
        tokens: [],
        lines: { totalMinor: -refundMinor, payType: 'REFUND' },
        messages: {
          lines: [
            `Reverses receipt ${stored.receipt.header.receiptNo} (${request.reason}${request.note ? `: ${request.note}` : ''}).`,
            ...(approver.id === session.id ? [] : [`Approved by ${approver.displayName}.`]),
            'Tokens already entered into the meter cannot be recalled.',
          ],
          ...(stored.receipt.messages?.footer ? { footer: stored.receipt.messages.footer } : {}),
        },
      };
      const result: SaleResult = {
        receiptNo,
        requestId: request.requestId,
        kind: 'reversal',
        createdAt: now.toISOString(),
        meterNo: stored.meterNo,
        tokens: [],
        breakdown: null,
        floatBalanceMinor,
        lowFloat: floatBalanceMinor < outlet.lowFloatThresholdMinor,
        receipt: { ...receipt, header: { ...receipt.header, issuedAt: buildReceiptTime(local) } },
      };
      this.#finishSale(saleId, result, fingerprint, session, now, {
        reverses: request.receiptNo,
        reason: request.reason,
        refundMinor,
        approvedBy: approver.username,
      });
      return result;
    });
  }

  /** A past receipt, marked COPY; every reprint is audited. */
  reprint(session: OperatorSession, receiptNo: number): SaleResult {
    requirePermission(session, 'reprint');
    return this.#sqlite
      .transaction((): SaleResult => {
        const row = this.#sqlite
          .prepare(
            'SELECT d.result_json AS resultJson FROM sale s JOIN sale_document d ON d.sale_id = s.id WHERE s.receipt_no = ?',
          )
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
            debt_minor, levies_minor, vat_minor, energy_minor, change_minor, units, fbe_units, reverses_sale_id, reason_code)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        // Only this outlet's own units are kept here; the others' arrive from head office.
        b.monthToDateUnitsAfter - this.#remoteMonthToDate(meter, month),
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
    pricing: PriceRequest | null = null,
  ): void {
    this.#sqlite
      .prepare('INSERT INTO sale_document (result_json, sale_id) VALUES (?, ?)')
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
      ledger: this.#saleLedgerRow(saleId, now),
      // What the sale was priced from: head office re-prices it with the month-to-date it holds.
      ...(pricing ? { pricing } : {}),
      result,
    });
  }

  /** The sale row as head office needs it (reconciliation, end of day): the ledger's columns, named. */
  #saleLedgerRow(saleId: number, now: Date): SaleLedgerRow {
    const row = this.#sqlite
      .prepare(
        `SELECT s.kind, s.shift_id AS shiftId, o.username AS operator, o.display_name AS operatorName, s.pay_type AS payType,
          s.tender_minor AS tenderMinor, s.charges_minor AS chargesMinor, s.debt_minor AS debtMinor, s.levies_minor AS leviesMinor,
          s.vat_minor AS vatMinor, s.energy_minor AS energyMinor, s.change_minor AS changeMinor, s.units, s.fbe_units AS fbeUnits,
          m.meter_no AS meterNo, m.meter_type AS resource, r.receipt_no AS reversesReceiptNo, s.reason_code AS reasonCode
         FROM sale s JOIN operator o ON o.id = s.operator_id LEFT JOIN meter m ON m.id = s.meter_id
           LEFT JOIN sale r ON r.id = s.reverses_sale_id
         WHERE s.id = ?`,
      )
      .get(saleId) as object;
    return { ...row, businessDate: dateOf(this.#local(now)) } as SaleLedgerRow;
  }
}

function requireRequestId(requestId: string): void {
  if (!/^[A-Za-z0-9._:-]{8,64}$/.test(requestId)) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      'The request has no valid request number (8–64 letters, digits, dots, dashes or colons).',
      `request id ${JSON.stringify(requestId)}`,
    );
  }
}

/** The sale row's money columns; with the change they add up to the tender exactly. */
/** The value a credit token carries against the vending authority: the energy money, less the change given. */
const creditTokenValue = (b: PriceBreakdown) => b.energyMoneyMinor - b.changeMinor;

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
