import { toHex } from '../encoding/hex.ts';
import { type BaseDate, formatWallClock, tidToWallClock } from './tid.ts';
import type { TokenPayload } from './token-payload.ts';

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Decoded fields in the fixture vocabulary (amounts in kWh-style units, TID as local date-time). */
export function describePayload(
  payload: TokenPayload,
  subclass: number,
  baseDate: BaseDate,
): Record<string, unknown> {
  const when = (tid: number) => formatWallClock(tidToWallClock(tid, baseDate));
  switch (payload.type) {
    case 'transfer-credit':
      return {
        type: `${capitalized(payload.resource)}_${String(subclass).padStart(2, '0')}`,
        rnd: payload.rnd,
        tid: payload.tid,
        tid_datetime: when(payload.tid),
        amount: payload.units / 10,
        'transfer_amount_units_0.1': payload.units,
      };
    case 'currency-credit':
      return {
        type: `${capitalized(payload.resource)}Currency_0${subclass}`,
        tid: payload.tid,
        tid_datetime: when(payload.tid),
        amount_1e5: payload.amount.toString(),
      };
    case 'initiate-test':
      return {
        type: 'InitiateMeterTest',
        control: payload.control,
        manufacturer_code: payload.manufacturerCode,
      };
    case 'set-max-power-limit':
    case 'set-max-phase-unbalance-limit':
      return {
        type: payload.type,
        rnd: payload.rnd,
        tid: payload.tid,
        tid_datetime: when(payload.tid),
        watts: payload.watts,
      };
    case 'clear-credit':
      return {
        type: payload.type,
        rnd: payload.rnd,
        tid: payload.tid,
        tid_datetime: when(payload.tid),
        register: payload.register,
      };
    case 'set-tariff-rate':
      return {
        type: payload.type,
        rnd: payload.rnd,
        tid: payload.tid,
        tid_datetime: when(payload.tid),
        rate_hex: toHex(payload.rate, 4),
      };
    case 'clear-tamper':
      return {
        type: payload.type,
        rnd: payload.rnd,
        tid: payload.tid,
        tid_datetime: when(payload.tid),
        pad: payload.pad,
      };
    case 'set-water-meter-factor':
      return {
        type: payload.type,
        rnd: payload.rnd,
        tid: payload.tid,
        tid_datetime: when(payload.tid),
        wmf: payload.factor,
      };
    case 'key-change-1':
      return {
        type: payload.type,
        kenho: payload.kenHigh,
        krn: payload.krn,
        ro: payload.rollover ? 1 : 0,
        res: payload.reserved,
        kt: payload.keyType,
        nkho_hex: toHex(payload.keyWord, 8),
      };
    case 'key-change-2':
      return {
        type: payload.type,
        kenlo: payload.kenLow,
        ti: payload.ti,
        nklo_hex: toHex(payload.keyWord, 8),
      };
    case 'key-change-3':
      return { type: payload.type, sgc_low: payload.sgcLow, key_word_hex: toHex(payload.keyWord, 8) };
    case 'key-change-4':
      return { type: payload.type, sgc_high: payload.sgcHigh, key_word_hex: toHex(payload.keyWord, 8) };
  }
}
