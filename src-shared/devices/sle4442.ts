import {
  CardLockedError,
  DeviceDataError,
  type DeviceError,
  ProtocolError,
  PscWrongError,
  WriteVerifyFailedError,
} from './device-errors.ts';

/**
 * SLE4442 / SLE5542 memory cards through PC/SC readers (hardware.md §3): pseudo-APDU builders per reader profile,
 * status word mapping to typed errors, and the error counter.
 *
 * The card: 256 bytes of main memory (bytes 0–31 can be locked for good by protection bits), a 3-byte PSC and an
 * error counter (bits 0–2). Every wrong PSC clears one counter bit; 0 bits left = locked forever. So: read the
 * counter before presenting a PSC, never retry a PSC automatically, and stop when tries are low.
 *
 * Profiles:
 * - ACS ACR38/ACR39 (REF-ACR38x-CCID; the ACR1281U and ACR33U manuals give the same commands): every operation.
 * - HID OMNIKEY: read FF B0, update FF D6, verify FF 20 (SW 90 00 / 63 Cx). Its read-protection (FF 3A) and change-PIN
 *   (FF 21) parameters and any error-counter read are not documented in our sources, so the profile leaves them out
 *   (null) rather than guess: a driver must refuse what a profile cannot do.
 *
 * PSC bytes are secrets: no message or detail here ever contains them.
 */

export const SLE4442_MEMORY_SIZE = 256;
/** Bytes 0–31 can be write-protected for good; application data starts after them. */
export const SLE4442_PROTECTABLE_BYTES = 32;
export const SLE4442_PSC_LENGTH = 3;
/** Tries while the counter is full (0x07). */
export const SLE4442_MAX_TRIES = 3;
/** The ATR an ACR38 reports for an SLE5542 (hardware.md §3.2); its last 4 bytes are the chip's own answer to reset. */
export const SLE4442_ATR_ACR38 = Uint8Array.of(0x3b, 0x04, 0xa2, 0x13, 0x10, 0x91);

/** True for the ACR38 form of the SLE4442/5542 ATR, or the bare 4-byte chip ATR (SLE4432 answers the same). */
export function matchesSle4442Atr(atr: Uint8Array): boolean {
  const expected = atr.length === 4 ? SLE4442_ATR_ACR38.subarray(2) : SLE4442_ATR_ACR38;
  return atr.length === expected.length && atr.every((byte, i) => byte === expected[i]);
}

// ---------------------------------------------------------------------------------------------------------------
// Responses and status words

export interface ApduResponse {
  data: Uint8Array;
  sw1: number;
  sw2: number;
  /** sw1 << 8 | sw2. */
  sw: number;
}

export type Sle4442Operation =
  | 'select'
  | 'read'
  | 'read-error-counter'
  | 'read-protection'
  | 'verify'
  | 'write'
  | 'change-psc';

/** Splits a transmit() reply into data and status word. */
export function splitApduResponse(bytes: Uint8Array): ApduResponse {
  if (bytes.length < 2) {
    throw new ProtocolError('ic-encoder', `APDU response of ${bytes.length} bytes has no status word`);
  }
  const sw1 = bytes[bytes.length - 2]!;
  const sw2 = bytes[bytes.length - 1]!;
  return { data: bytes.slice(0, -2), sw1, sw2, sw: (sw1 << 8) | sw2 };
}

const swText = (sw: number): string => `SW ${sw.toString(16).padStart(4, '0').toUpperCase()}`;

/** The typed error for a status word, or null for 90 00. Verify replies go through the profile's `verifyOutcome`. */
export function statusWordError(response: ApduResponse, operation: Sle4442Operation): DeviceError | null {
  const { sw, sw1, sw2 } = response;
  const detail = `${operation}: ${swText(sw)}`;
  if (sw === 0x9000) return null;
  if (sw1 === 0x63 && (sw2 & 0xf0) === 0xc0) {
    const triesLeft = sw2 & 0x0f;
    return triesLeft === 0 ? new CardLockedError(detail) : new PscWrongError(triesLeft, detail);
  }
  switch (sw) {
    case 0x6983:
      return new CardLockedError(detail);
    case 0x6581:
      return operation === 'write'
        ? new WriteVerifyFailedError(`${detail} (memory failure)`)
        : new ProtocolError('ic-encoder', `${detail} (memory failure)`);
    case 0x6982:
      return new ProtocolError(
        'ic-encoder',
        `${detail} (security status not satisfied: PSC not presented)`,
        'The card is not unlocked for writing. Remove the card, insert it again and start again.',
      );
    case 0x6a81:
    case 0x6d00:
    case 0x6e00:
      return new ProtocolError(
        'ic-encoder',
        `${detail} (function, instruction or class not supported)`,
        'This card reader does not support that card operation. Check the reader type in the device settings.',
      );
    default:
      return new ProtocolError('ic-encoder', `${detail} (unexpected status word)`);
  }
}

/** Throws the mapped error unless the status word is 90 00; returns the data. */
export function checkApduResponse(bytes: Uint8Array, operation: Sle4442Operation): Uint8Array {
  const response = splitApduResponse(bytes);
  const error = statusWordError(response, operation);
  if (error) throw error;
  return response.data;
}

// ---------------------------------------------------------------------------------------------------------------
// Error counter and protection bits

/** Tries left = counter bits still set among bits 0–2 (0x07 → 3, 0x03/0x05/0x06 → 2, one bit → 1, 0 → locked). */
export function triesLeftFromErrorCounter(counter: number): number {
  let tries = 0;
  for (let bit = 0; bit < 3; bit++) tries += (counter >>> bit) & 1;
  return tries;
}

export interface ErrorCounterStatus {
  counter: number;
  triesLeft: number;
  locked: boolean;
}

/** From the security-memory read (first byte = error counter; the other bytes are never looked at: PSC area). */
export function decodeErrorCounter(data: Uint8Array): ErrorCounterStatus {
  const counter = data[0];
  if (counter === undefined) throw new ProtocolError('ic-encoder', 'error counter read returned no data');
  const triesLeft = triesLeftFromErrorCounter(counter);
  return { counter: counter & 0x07, triesLeft, locked: triesLeft === 0 };
}

/**
 * Call before presenting a PSC: a locked card is refused, and so is a card that already shows wrong attempts
 * (fewer than `minTriesLeft`, default all 3) — an operator decides, the program never does.
 */
export function assertSafeToPresentPsc(status: ErrorCounterStatus, minTriesLeft = SLE4442_MAX_TRIES): void {
  if (status.locked) throw new CardLockedError(`error counter 0x${status.counter.toString(16)}: locked`);
  if (status.triesLeft < minTriesLeft) {
    throw new PscWrongError(
      status.triesLeft,
      `error counter 0x${status.counter.toString(16)}: ${status.triesLeft} tries left before presenting a PSC`,
      `This card has had wrong security codes before: ${status.triesLeft} ${status.triesLeft === 1 ? 'try is' : 'tries are'} left before it locks for good. Stop and call a supervisor.`,
    );
  }
}

/** Addresses 0–31 that are write-protected, from the 4 protection bytes (bit 0 of byte 0 = address 0; 0 = protected). */
export function protectedAddresses(protection: Uint8Array): number[] {
  if (protection.length < 4) {
    throw new ProtocolError('ic-encoder', `protection read returned ${protection.length} bytes, expected 4`);
  }
  const out: number[] = [];
  for (let address = 0; address < SLE4442_PROTECTABLE_BYTES; address++) {
    if (((protection[address >> 3]! >>> (address & 7)) & 1) === 0) out.push(address);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Reader profiles

export interface UpdateOptions {
  /** Allow writes to bytes 0–31 (card header); off by default because those bytes can be locked for good. */
  allowProtectableArea?: boolean;
}

export interface PscOutcome {
  /** Tries left after the successful compare (the counter is restored to 3). */
  triesLeft: number;
}

export interface Sle4442ReaderProfile {
  id: string;
  name: string;
  /** Powers the card up as SLE4432/4442/5532/5542; null when the reader needs no selection. */
  selectCard: (() => Uint8Array) | null;
  readMain: (address: number, length: number) => Uint8Array;
  /** Reads the security memory (error counter first); null when the profile cannot. */
  readErrorCounter: (() => Uint8Array) | null;
  readProtection: (() => Uint8Array) | null;
  verifyPsc: (psc: Uint8Array) => Uint8Array;
  updateMain: (address: number, data: Uint8Array, options?: UpdateOptions) => Uint8Array;
  changePsc: ((newPsc: Uint8Array) => Uint8Array) | null;
  /** Maps the verify reply: returns on success, throws PscWrongError / CardLockedError / ProtocolError. */
  verifyOutcome: (response: ApduResponse) => PscOutcome;
}

function requireRange(address: number, length: number, what: string): void {
  const ok =
    Number.isInteger(address) &&
    Number.isInteger(length) &&
    address >= 0 &&
    length >= 1 &&
    length <= 255 &&
    address + length <= SLE4442_MEMORY_SIZE;
  if (!ok) {
    throw new DeviceDataError(
      'The card data does not fit in the card memory.',
      `${what}: address ${address} length ${length} is outside the 256-byte memory (1..255 bytes per command)`,
    );
  }
}

function requireWritable(address: number, data: Uint8Array, options: UpdateOptions): void {
  requireRange(address, data.length, 'update main memory');
  if (address < SLE4442_PROTECTABLE_BYTES && !options.allowProtectableArea) {
    throw new DeviceDataError(
      'Writing to the card header is not allowed.',
      `update at address ${address} touches bytes 0-31 without allowProtectableArea`,
    );
  }
}

function requirePsc(psc: Uint8Array): Uint8Array {
  if (psc.length !== SLE4442_PSC_LENGTH) {
    // Never echo the PSC.
    throw new DeviceDataError(
      'The card security code must be 3 bytes. Check the card settings.',
      `PSC has ${psc.length} bytes, expected ${SLE4442_PSC_LENGTH}`,
    );
  }
  return psc;
}

const apdu = (...parts: (number | Uint8Array)[]): Uint8Array => {
  const bytes: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') bytes.push(part);
    else bytes.push(...part);
  }
  return Uint8Array.from(bytes);
};

/** ACS ACR38/ACR39: verify answers 90 + the error counter (07 = correct, 00 = locked, other = wrong). */
export const ACS_ACR38_PROFILE: Sle4442ReaderProfile = {
  id: 'acs-acr38',
  name: 'ACS ACR38 / ACR39',
  selectCard: () => apdu(0xff, 0xa4, 0x00, 0x00, 0x01, 0x06),
  readMain: (address, length) => {
    requireRange(address, length, 'read main memory');
    return apdu(0xff, 0xb0, 0x00, address, length);
  },
  readErrorCounter: () => apdu(0xff, 0xb1, 0x00, 0x00, 0x04),
  readProtection: () => apdu(0xff, 0xb2, 0x00, 0x00, 0x04),
  verifyPsc: (psc) => apdu(0xff, 0x20, 0x00, 0x00, 0x03, requirePsc(psc)),
  updateMain: (address, data, options = {}) => {
    requireWritable(address, data, options);
    return apdu(0xff, 0xd0, 0x00, address, data.length, data);
  },
  changePsc: (newPsc) => apdu(0xff, 0xd2, 0x00, 0x01, 0x03, requirePsc(newPsc)),
  verifyOutcome: (response) => {
    if (response.sw1 !== 0x90) {
      throw (
        statusWordError(response, 'verify') ?? new ProtocolError('ic-encoder', 'verify: unexpected reply')
      );
    }
    const counter = response.sw2;
    const triesLeft = triesLeftFromErrorCounter(counter);
    const detail = `verify: ${swText(response.sw)} (error counter 0x${counter.toString(16)})`;
    if ((counter & 0x07) === 0x07) return { triesLeft };
    if (triesLeft === 0) throw new CardLockedError(detail);
    throw new PscWrongError(triesLeft, detail);
  },
};

/** HID OMNIKEY (PLT-03099 command set as used in public code): verify answers 90 00, or 63 Cx with x tries left. */
export const OMNIKEY_PROFILE: Sle4442ReaderProfile = {
  id: 'omnikey',
  name: 'HID OMNIKEY',
  selectCard: null,
  readMain: (address, length) => {
    requireRange(address, length, 'read main memory');
    return apdu(0xff, 0xb0, 0x00, address, length);
  },
  readErrorCounter: null,
  readProtection: null,
  verifyPsc: (psc) => apdu(0xff, 0x20, 0x00, 0x00, 0x03, requirePsc(psc)),
  updateMain: (address, data, options = {}) => {
    requireWritable(address, data, options);
    return apdu(0xff, 0xd6, 0x00, address, data.length, data);
  },
  changePsc: null,
  verifyOutcome: (response) => {
    const error = statusWordError(response, 'verify');
    if (error) throw error;
    return { triesLeft: SLE4442_MAX_TRIES };
  },
};

export const SLE4442_READER_PROFILES: Readonly<Record<string, Sle4442ReaderProfile>> = {
  [ACS_ACR38_PROFILE.id]: ACS_ACR38_PROFILE,
  [OMNIKEY_PROFILE.id]: OMNIKEY_PROFILE,
};
