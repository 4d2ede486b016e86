import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, toHex, wordsFromBytes, wordsToBytes } from '../encoding/hex.ts';
import { createDes } from './crypto/des.ts';
import { StsError } from './errors.ts';
import {
  type DecoderKeyAlgorithm,
  decoderKeyBytes,
  type EncryptionAlgorithm,
  formatTi,
  type KeyType,
  requireDecoderKeyAlgorithm,
  requireEncryptionAlgorithm,
  requireKeyType,
  requireKrn,
  requireSgc,
  requireTi,
} from './identifiers.ts';
import type { MeterPan } from './meter-pan.ts';
import { SecretKey } from './secret-key.ts';
import { type BaseDate, requireBaseDate } from './tid.ts';

/** Everything a decoder key depends on besides the vending key. */
export interface DecoderKeyInputs {
  pan: MeterPan;
  keyType: KeyType;
  sgc: string;
  ti: number;
  krn: number;
  /** DKGA04 only: the base date and encryption algorithm are part of its KDF message. */
  baseDate: BaseDate;
  ea: EncryptionAlgorithm;
}

export interface Dkga02Trace {
  panBlockHex: string;
  controlBlockHex: string;
  panXorControlHex: string;
}

export interface Dkga04Trace {
  messageHex: string;
}

/** Derives decoder keys for many meters under one vending key; key schedules are set up once. */
export interface DecoderKeyDeriver {
  readonly algorithm: DecoderKeyAlgorithm;
  derive(inputs: DecoderKeyInputs): SecretKey;
  /** The derivation's intermediate values (no key material), for conformance output. */
  trace(inputs: DecoderKeyInputs): Dkga02Trace | Dkga04Trace;
}

export const VENDING_KEY_BYTES: Record<DecoderKeyAlgorithm, readonly number[]> = {
  DKGA02: [8],
  DKGA04: [20],
};

export function createDecoderKeyDeriver(
  algorithm: DecoderKeyAlgorithm,
  vendingKey: SecretKey,
): DecoderKeyDeriver {
  requireDecoderKeyAlgorithm(algorithm);
  const allowed = VENDING_KEY_BYTES[algorithm];
  if (!allowed.includes(vendingKey.length)) {
    throw new StsError(
      'STS_INVALID_KEY',
      `The vending key has the wrong length for ${algorithm}: it must be ${allowed.join(' or ')} bytes.`,
      `${algorithm} vending key is ${vendingKey.length} bytes, expected ${allowed.join(' or ')}`,
    );
  }
  return algorithm === 'DKGA02' ? createDkga02(vendingKey) : createDkga04(vendingKey);
}

/**
 * The derivers build their blocks and messages from the fields' text, so an out-of-range field (TI 100,
 * a 5-digit SGC, KRN 10, …) would silently give a different key. Refuse it instead.
 */
function requireInputs(inputs: DecoderKeyInputs, usesBaseDateAndEa: boolean): void {
  requireKeyType(inputs.keyType);
  requireSgc(inputs.sgc);
  requireTi(inputs.ti);
  requireKrn(inputs.krn);
  if (usesBaseDateAndEa) {
    requireBaseDate(inputs.baseDate);
    requireEncryptionAlgorithm(inputs.ea);
  }
}

// --- DKGA02: DK = DES_VK(PANBlock ⊕ CB) ⊕ (PANBlock ⊕ CB) ⊕ VK ------------------------------------

/** Decimal digits used directly as hex nibbles: "0072700000000000" → 0x0072700000000000. */
const digitsAsWords = (sixteenNibbles: string): [number, number] => [
  Number.parseInt(sixteenNibbles.slice(0, 8), 16) >>> 0,
  Number.parseInt(sixteenNibbles.slice(8, 16), 16) >>> 0,
];

function dkga02Blocks(inputs: DecoderKeyInputs): { panBlock: string; controlBlock: string } {
  requireInputs(inputs, false);
  const { pan, keyType } = inputs;
  // The 16 PAN digits after the first, without the check digit; a common key (KT 3) zeroes the DRN part.
  const iinPart = pan.iin.slice(1);
  const panBlock = iinPart + (keyType === 3 ? '0'.repeat(pan.drn.length) : pan.drn);
  const controlBlock = `${keyType}${inputs.sgc}${formatTi(inputs.ti)}${inputs.krn}FFFFFF`;
  return { panBlock, controlBlock };
}

function createDkga02(vendingKey: SecretKey): DecoderKeyDeriver {
  const des = createDes(vendingKey.bytes());
  const [vkHi, vkLo] = wordsFromBytes(vendingKey.bytes());
  const block = new Uint32Array(2);
  const xorWords = (inputs: DecoderKeyInputs): [number, number] => {
    const { panBlock, controlBlock } = dkga02Blocks(inputs);
    const [panHi, panLo] = digitsAsWords(panBlock);
    const [cbHi, cbLo] = digitsAsWords(controlBlock);
    return [(panHi ^ cbHi) >>> 0, (panLo ^ cbLo) >>> 0];
  };
  return {
    algorithm: 'DKGA02',
    derive(inputs) {
      const [dHi, dLo] = xorWords(inputs);
      block[0] = dHi;
      block[1] = dLo;
      des.encryptBlock(block);
      return SecretKey.fromBytes(wordsToBytes(block[0]! ^ dHi ^ vkHi, block[1]! ^ dLo ^ vkLo));
    },
    trace(inputs) {
      const { panBlock, controlBlock } = dkga02Blocks(inputs);
      const [dHi, dLo] = xorWords(inputs);
      return {
        panBlockHex: panBlock,
        controlBlockHex: controlBlock,
        panXorControlHex: toHex(dHi, 8) + toHex(dLo, 8),
      };
    },
  };
}

// --- DKGA04: leftmost L bits of HMAC-SHA-256(VK, label ‖ 0x00 ‖ context ‖ [L]32) ------------------

const ascii = (text: string): number[] => Array.from(text, (ch) => ch.charCodeAt(0));
const field = (text: string): number[] => [text.length, ...ascii(text)];

function dkga04Message(inputs: DecoderKeyInputs): Uint8Array {
  requireInputs(inputs, true);
  const keyBits = decoderKeyBytes(inputs.ea) * 8;
  return Uint8Array.from([
    0x04,
    ...field('04'),
    ...field(String(inputs.baseDate % 100).padStart(2, '0')),
    ...field(inputs.ea.slice(2)),
    ...field(formatTi(inputs.ti)),
    0x00,
    0x04,
    ...field(inputs.sgc),
    ...field(inputs.keyType.toString(16)),
    ...field(inputs.krn.toString(16)),
    ...field(inputs.pan.pan),
    0,
    0,
    0,
    keyBits,
  ]);
}

function createDkga04(vendingKey: SecretKey): DecoderKeyDeriver {
  const keyed = hmac.create(sha256, vendingKey.bytes());
  return {
    algorithm: 'DKGA04',
    derive(inputs) {
      const digest = keyed.clone().update(dkga04Message(inputs)).digest();
      return SecretKey.fromBytes(digest.subarray(0, decoderKeyBytes(inputs.ea)));
    },
    trace(inputs) {
      return { messageHex: bytesToHex(dkga04Message(inputs)) };
    },
  };
}
