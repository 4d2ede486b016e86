import { describe, expect, it } from 'vitest';
import {
  CardLockedError,
  ProtocolError,
  PscWrongError,
  WriteVerifyFailedError,
} from '../../../src-shared/devices/device-errors.ts';
import {
  ACS_ACR38_PROFILE,
  assertSafeToPresentPsc,
  checkApduResponse,
  decodeErrorCounter,
  matchesSle4442Atr,
  OMNIKEY_PROFILE,
  protectedAddresses,
  SLE4442_ATR_ACR38,
  SLE4442_READER_PROFILES,
  splitApduResponse,
  statusWordError,
  triesLeftFromErrorCounter,
} from '../../../src-shared/devices/sle4442.ts';
import { bytes, expectDeviceError, hex } from './support.ts';

const PSC = bytes('ff ff ff');
const sw = (text: string) => splitApduResponse(bytes(text));

describe('ACS ACR38/ACR39 pseudo-APDUs', () => {
  const acs = ACS_ACR38_PROFILE;
  it('builds every command from the reference table', () => {
    expect(hex(acs.selectCard!())).toBe('ff a4 00 00 01 06');
    expect(hex(acs.readMain(0x20, 0x40))).toBe('ff b0 00 20 40');
    expect(hex(acs.readErrorCounter!())).toBe('ff b1 00 00 04');
    expect(hex(acs.readProtection!())).toBe('ff b2 00 00 04');
    expect(hex(acs.verifyPsc(PSC))).toBe('ff 20 00 00 03 ff ff ff');
    expect(hex(acs.updateMain(0x20, bytes('01 02 03')))).toBe('ff d0 00 20 03 01 02 03');
    expect(hex(acs.changePsc!(bytes('12 34 56')))).toBe('ff d2 00 01 03 12 34 56');
  });

  it('verify: SW2 is the error counter (07 ok, 03/01 wrong with tries left, 00 locked)', () => {
    expect(acs.verifyOutcome(sw('90 07'))).toEqual({ triesLeft: 3 });
    const two = (() => {
      try {
        acs.verifyOutcome(sw('90 03'));
      } catch (error) {
        return error;
      }
    })();
    expect(two).toBeInstanceOf(PscWrongError);
    expect((two as PscWrongError).triesLeft).toBe(2);
    expect((two as PscWrongError).code).toBe('CARD_PSC_WRONG');
    const one = expectDeviceError(() => acs.verifyOutcome(sw('90 01')), 'CARD_PSC_WRONG') as PscWrongError;
    expect(one.triesLeft).toBe(1);
    expect(one.userMessage).toContain('Only 1 try is left');
    expect(
      (expectDeviceError(() => acs.verifyOutcome(sw('90 06')), 'CARD_PSC_WRONG') as PscWrongError).triesLeft,
    ).toBe(2);
    expect(() => acs.verifyOutcome(sw('90 00'))).toThrow(CardLockedError);
    expectDeviceError(() => acs.verifyOutcome(sw('6a 81')), 'DEVICE_PROTOCOL_ERROR');
  });
});

describe('OMNIKEY pseudo-APDUs', () => {
  const omnikey = OMNIKEY_PROFILE;
  it('builds the documented commands and leaves the undocumented ones out', () => {
    expect(omnikey.selectCard).toBeNull();
    expect(hex(omnikey.readMain(0, 32))).toBe('ff b0 00 00 20');
    expect(hex(omnikey.updateMain(0x50, bytes('aa bb')))).toBe('ff d6 00 50 02 aa bb');
    expect(hex(omnikey.verifyPsc(PSC))).toBe('ff 20 00 00 03 ff ff ff');
    expect(omnikey.readErrorCounter).toBeNull();
    expect(omnikey.readProtection).toBeNull();
    expect(omnikey.changePsc).toBeNull();
  });

  it('verify: 90 00 ok, 63 Cx wrong with x tries left, 63 C0 and 69 83 locked', () => {
    expect(omnikey.verifyOutcome(sw('90 00'))).toEqual({ triesLeft: 3 });
    const wrong = expectDeviceError(
      () => omnikey.verifyOutcome(sw('63 c2')),
      'CARD_PSC_WRONG',
    ) as PscWrongError;
    expect(wrong.triesLeft).toBe(2);
    expectDeviceError(() => omnikey.verifyOutcome(sw('63 c0')), 'CARD_LOCKED');
    expectDeviceError(() => omnikey.verifyOutcome(sw('69 83')), 'CARD_LOCKED');
  });

  it('profiles are listed by id', () => {
    expect(Object.keys(SLE4442_READER_PROFILES)).toEqual(['acs-acr38', 'omnikey']);
  });
});

describe('argument checks (nothing is built for a bad request)', () => {
  for (const profile of [ACS_ACR38_PROFILE, OMNIKEY_PROFILE]) {
    it(`${profile.name}: memory ranges, header area and PSC length`, () => {
      expectDeviceError(() => profile.readMain(250, 7), 'DEVICE_INVALID_DATA');
      expectDeviceError(() => profile.readMain(0, 0), 'DEVICE_INVALID_DATA');
      expectDeviceError(() => profile.readMain(-1, 4), 'DEVICE_INVALID_DATA');
      expectDeviceError(() => profile.readMain(0, 256), 'DEVICE_INVALID_DATA');
      expect(hex(profile.readMain(255, 1)).endsWith('ff 01')).toBe(true);
      expectDeviceError(() => profile.updateMain(0x20, new Uint8Array()), 'DEVICE_INVALID_DATA');
      expectDeviceError(() => profile.updateMain(250, new Uint8Array(7)), 'DEVICE_INVALID_DATA');
      const header = expectDeviceError(() => profile.updateMain(31, bytes('00 00')), 'DEVICE_INVALID_DATA');
      expect(header.userMessage).toContain('header');
      expect(
        hex(profile.updateMain(0x10, bytes('01'), { allowProtectableArea: true })).endsWith('10 01 01'),
      ).toBe(true);
      const psc = expectDeviceError(() => profile.verifyPsc(bytes('12 34 56 78')), 'DEVICE_INVALID_DATA');
      expect(`${psc.userMessage} ${psc.detail}`).not.toMatch(/12|34|56|78/);
      expectDeviceError(() => profile.verifyPsc(bytes('12 34')), 'DEVICE_INVALID_DATA');
    });
  }
});

describe('status words', () => {
  it('splits data and SW, refusing a reply without one', () => {
    expect(splitApduResponse(bytes('01 02 90 00'))).toEqual({
      data: bytes('01 02'),
      sw1: 0x90,
      sw2: 0x00,
      sw: 0x9000,
    });
    expectDeviceError(() => splitApduResponse(bytes('90')), 'DEVICE_PROTOCOL_ERROR');
  });

  it('maps each status word to a typed result', () => {
    expect(statusWordError(sw('90 00'), 'read')).toBeNull();
    expect(statusWordError(sw('63 c3'), 'verify')).toBeInstanceOf(PscWrongError);
    expect((statusWordError(sw('63 c1'), 'verify') as PscWrongError).triesLeft).toBe(1);
    expect(statusWordError(sw('63 c0'), 'verify')).toBeInstanceOf(CardLockedError);
    expect(statusWordError(sw('69 83'), 'verify')).toBeInstanceOf(CardLockedError);
    expect(statusWordError(sw('65 81'), 'write')).toBeInstanceOf(WriteVerifyFailedError);
    expect(statusWordError(sw('65 81'), 'read')).toBeInstanceOf(ProtocolError);
    expect(statusWordError(sw('69 82'), 'write')?.userMessage).toContain('not unlocked');
    for (const word of ['6a 81', '6d 00', '6e 00']) {
      expect(statusWordError(sw(word), 'read')?.userMessage).toContain('does not support');
    }
    for (const word of ['67 00', '6b 00', '62 81', '90 07']) {
      const error = statusWordError(sw(word), 'read');
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error?.detail).toContain(`SW ${word.replace(' ', '').toUpperCase()}`);
    }
  });

  it('checkApduResponse returns data on 90 00 and throws otherwise', () => {
    expect(hex(checkApduResponse(bytes('aa bb 90 00'), 'read'))).toBe('aa bb');
    expectDeviceError(() => checkApduResponse(bytes('69 83'), 'write'), 'CARD_LOCKED');
  });
});

describe('error counter and protection bits', () => {
  it('tries left = counter bits set among bits 0-2', () => {
    expect(
      [0x07, 0x03, 0x05, 0x06, 0x01, 0x02, 0x04, 0x00, 0xff, 0xf8].map(triesLeftFromErrorCounter),
    ).toEqual([3, 2, 2, 2, 1, 1, 1, 0, 3, 0]);
  });

  it('decodes the security memory read from its first byte only', () => {
    expect(decodeErrorCounter(bytes('07 00 00 00'))).toEqual({ counter: 7, triesLeft: 3, locked: false });
    expect(decodeErrorCounter(bytes('03 12 34 56'))).toEqual({ counter: 3, triesLeft: 2, locked: false });
    expect(decodeErrorCounter(bytes('00'))).toEqual({ counter: 0, triesLeft: 0, locked: true });
    expectDeviceError(() => decodeErrorCounter(new Uint8Array()), 'DEVICE_PROTOCOL_ERROR');
  });

  it('a PSC may only be presented on a card with all tries left (or the operator-set minimum)', () => {
    expect(() => assertSafeToPresentPsc(decodeErrorCounter(bytes('07')))).not.toThrow();
    const low = expectDeviceError(
      () => assertSafeToPresentPsc(decodeErrorCounter(bytes('03'))),
      'CARD_PSC_WRONG',
    );
    expect((low as PscWrongError).triesLeft).toBe(2);
    expect(low.userMessage).toContain('wrong security codes before');
    expect(() => assertSafeToPresentPsc(decodeErrorCounter(bytes('03')), 2)).not.toThrow();
    expectDeviceError(() => assertSafeToPresentPsc(decodeErrorCounter(bytes('00')), 1), 'CARD_LOCKED');
    expect(
      expectDeviceError(() => assertSafeToPresentPsc(decodeErrorCounter(bytes('01')), 2), 'CARD_PSC_WRONG')
        .userMessage,
    ).toContain('1 try is left');
  });

  it('protection bits: bit x of the 4 bytes is address x; 0 = protected', () => {
    expect(protectedAddresses(bytes('ff ff ff ff'))).toEqual([]);
    expect(protectedAddresses(bytes('fe ff ff 7f'))).toEqual([0, 31]);
    expect(protectedAddresses(bytes('00 00 00 00'))).toHaveLength(32);
    expectDeviceError(() => protectedAddresses(bytes('ff ff')), 'DEVICE_PROTOCOL_ERROR');
  });

  it('recognises the SLE4442/5542 ATR', () => {
    expect(matchesSle4442Atr(SLE4442_ATR_ACR38)).toBe(true);
    expect(matchesSle4442Atr(bytes('a2 13 10 91'))).toBe(true);
    expect(matchesSle4442Atr(bytes('3b 04 92 23 10 91'))).toBe(false);
    expect(matchesSle4442Atr(bytes('3b 8f 80 01 80 4f 0c a0 00 00 03 06 03 00 01 00 00 00 00 6a'))).toBe(
      false,
    );
  });
});
