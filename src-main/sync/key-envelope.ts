import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { KEY_ENVELOPE_ALG, type KeyEnvelope, MasterDataError } from '../../src-shared/sync/master-data.ts';

/**
 * Secrets (vending keys) sent to one enrolled device: the server seals, only that device opens.
 *
 * The device already has an Ed25519 identity key; its X25519 twin is derived from it (public: the Edwards
 * point mapped to Montgomery form; private: the scalar from the Ed25519 seed), so no second key is enrolled.
 * Ephemeral-static ECDH gives a fresh shared secret per envelope; HKDF-SHA256 turns it into an AES-256-GCM
 * key. The HKDF info and the GCM associated data both bind the version label, the device id and what the
 * secret is (e.g. the supply group key), so an envelope cannot be replayed to another device or record.
 */
export const KEY_ENVELOPE_LABEL = 'openvend-key-envelope:v1';
const IV_BYTES = 12;

export interface EnvelopeContext {
  deviceId: string;
  /** What the secret is, e.g. `supply-group:123456:1:DKGA02`. */
  subject: string;
}

const binding = (context: EnvelopeContext): Buffer =>
  Buffer.from(`${KEY_ENVELOPE_LABEL}\n${context.deviceId}\n${context.subject}`, 'utf8');

const x25519Public = (raw: Uint8Array): KeyObject =>
  createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });

function aesKey(shared: Buffer, epk: Uint8Array, recipient: Uint8Array, context: EnvelopeContext): Buffer {
  // Salt = both public keys: the derived key belongs to this exchange only.
  const salt = Buffer.concat([epk, recipient]);
  return Buffer.from(hkdfSync('sha256', shared, salt, binding(context), 32));
}

/** The device's X25519 public key from its enrolled Ed25519 public key (raw 32 bytes, base64url). */
function deviceX25519Public(ed25519PublicKey: string): Uint8Array {
  const raw = Buffer.from(ed25519PublicKey, 'base64url');
  if (raw.length !== 32) {
    throw new MasterDataError('MASTER_KEY_ENVELOPE_INVALID', 'device public key is not 32 bytes');
  }
  return ed25519.utils.toMontgomery(raw);
}

/** Seals `secret` to the device whose Ed25519 public key (base64url) is given. */
export function sealToDevice(
  ed25519PublicKey: string,
  context: EnvelopeContext,
  secret: Uint8Array,
): KeyEnvelope {
  const recipient = deviceX25519Public(ed25519PublicKey);
  const ephemeral = generateKeyPairSync('x25519');
  const epk = Buffer.from(ephemeral.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: x25519Public(recipient) });
  const key = aesKey(shared, epk, recipient, context);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(binding(context));
  const body = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
  shared.fill(0);
  key.fill(0);
  return {
    alg: KEY_ENVELOPE_ALG,
    epk: epk.toString('base64url'),
    iv: iv.toString('base64url'),
    ciphertext: body.toString('base64url'),
  };
}

/** Opens an envelope with the device's Ed25519 private key; any failure is one typed refusal. */
export function openFromDevice(
  devicePrivateKey: KeyObject,
  context: EnvelopeContext,
  envelope: KeyEnvelope,
): Uint8Array {
  let shared: Buffer | undefined;
  let key: Buffer | undefined;
  let scalar: Uint8Array | undefined;
  try {
    const jwk = devicePrivateKey.export({ format: 'jwk' });
    if (jwk.crv !== 'Ed25519' || !jwk.d || !jwk.x) throw new Error('not an Ed25519 private key');
    const seed = Buffer.from(jwk.d, 'base64url');
    scalar = ed25519.utils.toMontgomerySecret(seed);
    seed.fill(0);
    const recipient = deviceX25519Public(jwk.x);
    const privateKey = createPrivateKey({
      key: {
        kty: 'OKP',
        crv: 'X25519',
        d: Buffer.from(scalar).toString('base64url'),
        x: Buffer.from(recipient).toString('base64url'),
      },
      format: 'jwk',
    });
    const epk = Buffer.from(envelope.epk, 'base64url');
    const iv = Buffer.from(envelope.iv, 'base64url');
    const body = Buffer.from(envelope.ciphertext, 'base64url');
    if (epk.length !== 32 || iv.length !== IV_BYTES || body.length <= 16) throw new Error('bad lengths');
    shared = diffieHellman({ privateKey, publicKey: x25519Public(epk) });
    key = aesKey(shared, epk, recipient, context);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(binding(context));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return new Uint8Array(
      Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]),
    );
  } catch (error) {
    // The detail names the subject only: never key bytes.
    throw new MasterDataError(
      'MASTER_KEY_ENVELOPE_INVALID',
      `envelope for ${context.subject} to device ${context.deviceId} does not open: ${(error as Error).message}`,
    );
  } finally {
    shared?.fill(0);
    key?.fill(0);
    scalar?.fill(0);
  }
}
