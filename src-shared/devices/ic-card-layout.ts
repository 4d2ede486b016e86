import { crc16Modbus } from '../sts/crc.ts';
import {
  type CarrierContent,
  requireCarrierToken,
  requireMeterNoDigits,
  requireSequence,
} from './carrier-content.ts';
import { CardDataError, DeviceDataError, WriteVerifyFailedError, WrongCardError } from './device-errors.ts';
import { SLE4442_MEMORY_SIZE, SLE4442_PROTECTABLE_BYTES } from './sle4442.ts';

/**
 * IC-card (SLE4442) purchase-record layouts, per meter vendor. Prepaid IC-card layouts and PSC schemes are
 * vendor proprietary (hardware.md §3.3); IEC 62055-51/-52 do not define them. So a layout is pluggable
 * (`IcCardLayoutCodec`), and the PSC never comes from a layout: the driver gets it from the outlet's secret settings.
 *
 * Default layout (`openVendIcLayout`, OpenVend's own), at address 32 (after the protectable header), big-endian:
 *
 * | Offset   | Size | Field                                                                 |
 * |----------|------|-----------------------------------------------------------------------|
 * | 0        | 2    | magic "OV" (0x4F 0x56)                                                |
 * | 2        | 1    | layout version, 0x01                                                  |
 * | 3        | 1    | token count n (1..maxTokens)                                          |
 * | 4        | 2    | purchase sequence (0..65535)                                          |
 * | 6        | 10   | meter number: 20 BCD digits, right-aligned, unused leading nibbles 0xF |
 * | 16       | 10·n | tokens: 20 BCD digits each, in entry order                            |
 * | 16 + 10n | 2    | CRC-16/MODBUS of bytes 0 .. 15 + 10n                                  |
 *
 * A record is 18 + 10n bytes (58 for 4 tokens). Blank areas (all 0x00 or all 0xFF, as shipped) decode to null.
 */

export interface IcCardLayoutCodec {
  id: string;
  description: string;
  /** First main-memory address of the record. */
  address: number;
  /** Bytes a driver reads (from `address`) to decode any record of this layout. */
  readLength: number;
  encode(content: CarrierContent): Uint8Array;
  /** null for a blank record area; CardDataError / WrongCardError for anything else that is not a valid record. */
  decode(bytes: Uint8Array): CarrierContent | null;
}

export interface OpenVendIcLayoutOptions {
  address?: number;
  maxTokens?: number;
}

const MAGIC = [0x4f, 0x56];
const VERSION = 0x01;
const HEADER = 16;
const TOKEN_BYTES = 10;
const CRC_BYTES = 2;
const METER_NIBBLES = 20;

function packBcd(digits: string, nibbles: number): number[] {
  const padded = digits.padStart(nibbles, 'F');
  const out: number[] = [];
  for (let i = 0; i < nibbles; i += 2) {
    out.push((Number.parseInt(padded[i]!, 16) << 4) | Number.parseInt(padded[i + 1]!, 16));
  }
  return out;
}

/** BCD back to digits; leading 0xF nibbles are padding. null when a nibble is not a digit (or padding inside). */
function unpackBcd(bytes: Uint8Array): string | null {
  let out = '';
  let padding = true;
  for (const byte of bytes) {
    for (const nibble of [byte >> 4, byte & 0x0f]) {
      if (padding && nibble === 0xf) continue;
      padding = false;
      if (nibble > 9) return null;
      out += String(nibble);
    }
  }
  return out;
}

export function openVendIcLayout(options: OpenVendIcLayoutOptions = {}): IcCardLayoutCodec {
  const address = options.address ?? SLE4442_PROTECTABLE_BYTES;
  const maxTokens = options.maxTokens ?? 4;
  const readLength = HEADER + TOKEN_BYTES * maxTokens + CRC_BYTES;
  if (
    !Number.isInteger(address) ||
    !Number.isInteger(maxTokens) ||
    address < SLE4442_PROTECTABLE_BYTES ||
    maxTokens < 1 ||
    address + readLength > SLE4442_MEMORY_SIZE
  ) {
    throw new DeviceDataError(
      'The IC card layout does not fit the card. Check the card settings.',
      `IC layout at address ${address} with ${maxTokens} tokens (${readLength} bytes) is outside 32..255`,
    );
  }

  const encode = (content: CarrierContent): Uint8Array => {
    const tokens = content.tokens;
    if (!Array.isArray(tokens) || tokens.length === 0 || tokens.length > maxTokens) {
      throw new DeviceDataError(
        `An IC card of this type holds 1 to ${maxTokens} tokens; this sale has ${tokens?.length ?? 0}.`,
        `IC layout: ${tokens?.length ?? 0} tokens, allowed 1..${maxTokens}`,
      );
    }
    const meterNo = requireMeterNoDigits(content.meterNo, 1, METER_NIBBLES);
    const sequence = requireSequence(content.sequence, 0xffff);
    const bytes = [
      ...MAGIC,
      VERSION,
      tokens.length,
      sequence >> 8,
      sequence & 0xff,
      ...packBcd(meterNo, METER_NIBBLES),
    ];
    tokens.forEach((token, i) => {
      bytes.push(...packBcd(requireCarrierToken(token, i), TOKEN_BYTES * 2));
    });
    const crc = crc16Modbus(Uint8Array.from(bytes));
    bytes.push(crc >> 8, crc & 0xff);
    return Uint8Array.from(bytes);
  };

  const decode = (bytes: Uint8Array): CarrierContent | null => {
    const fail = (detail: string): never => {
      throw new CardDataError(`IC layout: ${detail}`);
    };
    if (bytes.length < HEADER) fail(`${bytes.length} bytes read, need at least ${HEADER}`);
    const head = bytes.subarray(0, HEADER);
    if (head.every((b) => b === 0xff) || head.every((b) => b === 0x00)) return null;
    if (bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1]) {
      throw new WrongCardError(
        'IC card record area does not start with the OpenVend magic',
        'This card was not prepared for this system. Use a card issued for this meter.',
      );
    }
    if (bytes[2] !== VERSION) fail(`unknown layout version ${bytes[2]}`);
    const count = bytes[3]!;
    if (count < 1 || count > maxTokens) fail(`token count ${count} is outside 1..${maxTokens}`);
    const end = HEADER + TOKEN_BYTES * count;
    if (bytes.length < end + CRC_BYTES) fail(`${bytes.length} bytes read, record needs ${end + CRC_BYTES}`);
    const crc = crc16Modbus(bytes.subarray(0, end));
    if (bytes[end] !== crc >> 8 || bytes[end + 1] !== (crc & 0xff)) fail('CRC mismatch');
    const make = (_message: string, detail: string) => new CardDataError(`IC layout: ${detail}`);
    const meterNo = unpackBcd(bytes.subarray(6, HEADER));
    if (meterNo === null || meterNo === '') fail('meter number is not BCD digits');
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const digits = unpackBcd(bytes.subarray(HEADER + TOKEN_BYTES * i, HEADER + TOKEN_BYTES * (i + 1)));
      tokens.push(requireCarrierToken(digits ?? '', i, make));
    }
    return { meterNo: meterNo!, sequence: (bytes[4]! << 8) | bytes[5]!, tokens };
  };

  return {
    id: 'openvend-default',
    description: `OpenVend default: record at address ${address}, up to ${maxTokens} tokens, CRC-16`,
    address,
    readLength,
    encode,
    decode,
  };
}

export const DEFAULT_IC_CARD_LAYOUT: IcCardLayoutCodec = openVendIcLayout();

/** Before writing: the card must belong to the meter being vended (a blank card belongs to nobody yet). */
export function assertCardForMeter(record: CarrierContent | null, meterNo: string): void {
  if (record !== null && record.meterNo !== undefined && record.meterNo !== meterNo) {
    throw new WrongCardError(
      `card holds meter ${record.meterNo}, sale is for meter ${meterNo}`,
      `This card belongs to meter ${record.meterNo}, not ${meterNo}. Insert the card for meter ${meterNo}.`,
    );
  }
}

/** After a write: the bytes read back from the record address must start with exactly what was written. */
export function assertRecordReadBack(written: Uint8Array, readBack: Uint8Array): void {
  const differs = written.findIndex((byte, i) => readBack[i] !== byte);
  if (readBack.length < written.length || differs >= 0) {
    throw new WriteVerifyFailedError(
      `IC record read-back differs (wrote ${written.length} bytes, read ${readBack.length}, first difference at ${differs < 0 ? readBack.length : differs})`,
    );
  }
}
