import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openFromDevice, sealToDevice } from '../../../src-main/sync/key-envelope.ts';
import { keyEnvelopeSchema, MasterDataError } from '../../../src-shared/sync/master-data.ts';

/** Vending keys sealed to one enrolled device (X25519 from its Ed25519 key, HKDF, AES-256-GCM). */

function device() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { key: privateKey, publicKey: publicKey.export({ format: 'jwk' }).x! };
}

const SECRET = Uint8Array.from(Buffer.from('abababababababab949494949494949401234567', 'hex'));
const CONTEXT = { deviceId: 'dev-1', subject: 'supply-group:123457:1:DKGA04' };

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MasterDataError);
    return (error as MasterDataError).code;
  }
  throw new Error('expected a refusal');
};

describe('key envelope', () => {
  it('opens with the device it was sealed to, in the wire shape, fresh each time', () => {
    const d = device();
    const envelope = sealToDevice(d.publicKey, CONTEXT, SECRET);
    expect(keyEnvelopeSchema.parse(envelope)).toEqual(envelope);
    expect(Buffer.from(openFromDevice(d.key, CONTEXT, envelope))).toEqual(Buffer.from(SECRET));
    const again = sealToDevice(d.publicKey, CONTEXT, SECRET);
    expect(again.epk).not.toBe(envelope.epk);
    expect(again.ciphertext).not.toBe(envelope.ciphertext);
    expect(JSON.stringify(envelope)).not.toContain(Buffer.from(SECRET).toString('base64url'));
  });

  it('cannot be opened by another device', () => {
    const envelope = sealToDevice(device().publicKey, CONTEXT, SECRET);
    expect(refusal(() => openFromDevice(device().key, CONTEXT, envelope))).toBe(
      'MASTER_KEY_ENVELOPE_INVALID',
    );
  });

  it('is bound to the device id and the subject it was sealed for', () => {
    const d = device();
    const envelope = sealToDevice(d.publicKey, CONTEXT, SECRET);
    expect(refusal(() => openFromDevice(d.key, { ...CONTEXT, deviceId: 'dev-2' }, envelope))).toBe(
      'MASTER_KEY_ENVELOPE_INVALID',
    );
    expect(
      refusal(() => openFromDevice(d.key, { ...CONTEXT, subject: 'supply-group:123457:2:DKGA04' }, envelope)),
    ).toBe('MASTER_KEY_ENVELOPE_INVALID');
  });

  it('refuses a tampered envelope (any byte of the ciphertext, iv or sender key) without revealing the key', () => {
    const d = device();
    const envelope = sealToDevice(d.publicKey, CONTEXT, SECRET);
    const flip = (text: string, at: number) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[at] = bytes[at]! ^ 0x01;
      return bytes.toString('base64url');
    };
    const body = Buffer.from(envelope.ciphertext, 'base64url').length;
    for (const tampered of [
      { ...envelope, ciphertext: flip(envelope.ciphertext, 0) },
      { ...envelope, ciphertext: flip(envelope.ciphertext, body - 1) },
      { ...envelope, iv: flip(envelope.iv, 3) },
      { ...envelope, epk: flip(envelope.epk, 5) },
      {
        ...envelope,
        ciphertext: Buffer.from(envelope.ciphertext, 'base64url').subarray(0, 8).toString('base64url'),
      },
    ]) {
      let error: unknown;
      try {
        openFromDevice(d.key, CONTEXT, tampered);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(MasterDataError);
      expect((error as MasterDataError).code).toBe('MASTER_KEY_ENVELOPE_INVALID');
      expect(JSON.stringify((error as MasterDataError).toJSON())).not.toMatch(/abababab/i);
    }
  });

  it('refuses a device public key that is not an Ed25519 key', () => {
    expect(refusal(() => sealToDevice(Buffer.alloc(31).toString('base64url'), CONTEXT, SECRET))).toBe(
      'MASTER_KEY_ENVELOPE_INVALID',
    );
  });
});
