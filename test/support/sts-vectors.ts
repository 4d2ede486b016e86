import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { StsError, type StsErrorCode } from '../../src-shared/sts/errors.ts';

/**
 * Typed access to the shared STS conformance vectors (`shared/fixtures/sts-vectors.json` beside the repository,
 * described in shared/docs/sts-algorithms.md §15), plus the assertion every STS error test uses.
 *
 * The shared folder is a sibling of the repository (as on the development machines and in CI), so from
 * test/support/ the file is three levels up: ../../../shared/fixtures/sts-vectors.json.
 */
export const STS_VECTORS_URL = new URL('../../../shared/fixtures/sts-vectors.json', import.meta.url);
export const STS_VECTORS_PATH = fileURLToPath(STS_VECTORS_URL);

export type Confidence = 'high' | 'medium' | 'low';

/** DKGA02 / DKGA04 / RAW derivation objects (§15.1). `iin`/`iain` only for DKGA02, `base_date`/`ea` only for DKGA04. */
export interface DecoderKeyDerivation {
  algorithm: 'DKGA02' | 'DKGA04' | 'RAW';
  vending_key_hex?: string;
  iin?: string;
  iain?: string;
  meter_pan?: string | null;
  key_type?: number;
  sgc?: string;
  ti?: string;
  krn?: number;
  base_date?: number;
  ea?: number;
  decoder_key_hex?: string;
}

interface VectorBase<K extends string, I, E> {
  id: string;
  kind: K;
  inputs: I;
  expected: E;
  source: string;
  confidence: Confidence;
  notes: string;
}

export type CreditTokenVector = VectorBase<
  'credit_token',
  {
    decoder_key_derivation: DecoderKeyDerivation;
    encryption_algorithm: 'EA07' | 'EA11';
    token_class: number;
    token_subclass: number;
    random_no: number;
    issue_datetime: string | null;
    base_date: number | null;
    tid_minutes: number;
    amount: number;
    'transfer_amount_units_0.1': number;
  },
  {
    token: string;
    intermediate_decoder_key_hex_msb_first: string;
    intermediate_transfer_amount_16bit_hex: string;
    intermediate_crc16_hex: string;
    intermediate_plain_64bit_block_hex: string;
  }
>;

export type MgmtTokenVector = VectorBase<
  'mgmt_token',
  {
    decoder_key_derivation: DecoderKeyDerivation;
    encryption_algorithm: 'EA07' | 'EA11';
    token_class: number;
    token_subclass: number;
    random_no: number;
    issue_datetime: string | null;
    base_date: number;
    tid_minutes: number;
    encoded_16bit_field_hex: string;
    register?: number;
    mpl?: number;
    mppul?: number;
    pad?: number;
  },
  {
    token: string;
    intermediate_decoder_key_hex_msb_first: string;
    intermediate_crc16_hex: string;
    intermediate_plain_64bit_block_hex: string;
  }
>;

export type Class1TokenVector = VectorBase<
  'class1_token',
  {
    token_class: number;
    token_subclass: number;
    manufacturer_code: number;
    manufacturer_code_bits?: number;
    control: number;
    control_hex: string;
    control_bits?: number;
    encrypted?: boolean;
  },
  {
    token: string;
    intermediate_crc16_hex?: string;
    intermediate_plain_64bit_block_hex?: string;
    recomputed_token_with_mfr_code_encoded?: string;
  }
>;

export type KeyChangeTokenVector = VectorBase<
  'keychange_token',
  {
    current_decoder_key_derivation: DecoderKeyDerivation;
    new_decoder_key_derivation: DecoderKeyDerivation;
    encryption_algorithm: 'EA07' | 'EA11';
    kenho: number;
    kenlo: number;
    krn_new: number;
    ro: number;
    res_3kct: number;
    key_type_new: number;
    ti_new: string;
    sgc_for_3rd_section?: string;
    sgc_for_4th_section?: string;
  },
  {
    intermediate_current_decoder_key_hex_msb_first: string;
    intermediate_new_decoder_key_hex_msb_first: string;
    set1st_section_token_class2_sub3?: string;
    set2nd_section_token_class2_sub4?: string;
    intermediate_nkho_hex?: string;
    intermediate_nklo_hex?: string;
    intermediate_set1st_plain_block_hex?: string;
    intermediate_set2nd_plain_block_hex?: string;
    set1st_section_token?: string;
    set2nd_section_token?: string;
    set3rd_section_token?: string;
    set4th_section_token?: string;
    intermediate_plain_blocks_hex?: { set1st: string; set2nd: string; set3rd: string; set4th: string };
  }
>;

export type DecodeVector = VectorBase<
  'decode',
  { token: string; decoder_key_hex: string; encryption_algorithm: 'EA07' | 'EA11'; base_date: number },
  {
    class: number;
    subclass: number;
    intermediate_class_from_bits_28_27: number;
    intermediate_decrypted_64bit_block_hex: string;
    intermediate_crc_ok: boolean;
    [field: string]: unknown;
  }
>;

export type AmountVector = VectorBase<
  'amount',
  { 'transfer_amount_units_0.1': number; kwh: number },
  { amount16_hex: string; exponent: number; mantissa: number; 'decoded_units_0.1': number }
>;

export type CrcVector = VectorBase<
  'crc',
  { crc_input_7_bytes_hex?: string; crc_input_50bit_hex?: string; bytes_ascii?: string },
  {
    crc16_as_stored_hex?: string;
    crc_register_before_byteswap_hex?: string;
    crc_register_hex?: string;
    crc16_as_stored_hex_byteswapped?: string;
  }
>;

export type TidVector = VectorBase<
  'tid',
  { issue_datetime: string; base_date: string },
  { tid_minutes: number; tid_hex: string; tid_mod_1440: number }
>;

export type StaEncryptVector = VectorBase<
  'sta_encrypt',
  { key_hex: string; plaintext_hex: string; tables: 'production' },
  { ciphertext_hex: string; token_66bit_after_class0_insert_hex?: string; token_20digit?: string }
>;

export type Misty1EncryptVector = VectorBase<
  'misty1_encrypt',
  { key_hex: string; plaintext_hex: string },
  { ciphertext_hex: string }
>;

export type Dkga02Vector = VectorBase<
  'dkga02',
  {
    algorithm: 'DKGA02';
    vending_key_hex: string;
    iin: string;
    iain: string;
    meter_pan: string;
    key_type: number;
    sgc: string;
    ti: string;
    krn: number;
  },
  {
    decoder_key_hex_standard_order: string;
    decoder_key_hex_nectar_storage_order: string;
    intermediate_pan_block: string;
    intermediate_control_block: string;
    intermediate_pan_xor_cb: string;
  }
>;

export type Dkga04Vector = VectorBase<
  'dkga04',
  {
    algorithm: 'DKGA04';
    vending_key_hex: string;
    meter_pan: string;
    key_type: number;
    sgc: string;
    ti: string;
    krn: number;
    base_date: number;
    ea: number;
  },
  {
    decoder_key_hex_standard_order: string;
    decoder_key_hex_nectar_storage_order: string;
    intermediate_hmac_message_hex: string;
  }
>;

export type StsVector =
  | CreditTokenVector
  | MgmtTokenVector
  | Class1TokenVector
  | KeyChangeTokenVector
  | DecodeVector
  | AmountVector
  | CrcVector
  | TidVector
  | StaEncryptVector
  | Misty1EncryptVector
  | Dkga02Vector
  | Dkga04Vector;

export type StsVectorKind = StsVector['kind'];
export type VectorOfKind<K extends StsVectorKind> = Extract<StsVector, { kind: K }>;

/** The number of vectors the file is documented to hold (sts-algorithms.md §15). */
export const EXPECTED_VECTOR_COUNT = 118;

const REQUIRED_FIELDS = ['id', 'kind', 'inputs', 'expected', 'source', 'confidence', 'notes'] as const;

function load(): readonly StsVector[] {
  const parsed: unknown = JSON.parse(readFileSync(STS_VECTORS_URL, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${STS_VECTORS_PATH} is not a JSON array`);
  for (const [index, item] of parsed.entries()) {
    if (item === null || typeof item !== 'object') throw new Error(`vector #${index} is not an object`);
    for (const field of REQUIRED_FIELDS) {
      if (!(field in item)) throw new Error(`vector #${index} has no "${field}"`);
    }
  }
  return Object.freeze(parsed as StsVector[]);
}

let cache: readonly StsVector[] | undefined;

/** Every vector in file order. */
export function allVectors(): readonly StsVector[] {
  cache ??= load();
  return cache;
}

/** The vectors of one kind, typed. */
export function vectorsOfKind<K extends StsVectorKind>(kind: K): VectorOfKind<K>[] {
  return allVectors().filter((vector): vector is VectorOfKind<K> => vector.kind === kind);
}

/** One vector by id; throws when it is missing so a renamed fixture fails loudly. */
export function vectorById<K extends StsVectorKind>(id: string, kind?: K): VectorOfKind<K> {
  const vector = allVectors().find((v) => v.id === id);
  if (!vector) throw new Error(`no STS vector with id ${id}`);
  if (kind !== undefined && vector.kind !== kind)
    throw new Error(`vector ${id} is ${vector.kind}, not ${kind}`);
  return vector as VectorOfKind<K>;
}

/** A deep, mutable copy (for tampering tests). */
export const cloneVector = <V extends StsVector>(vector: V): V => structuredClone(vector) as V;

// ---------------------------------------------------------------------------------------------
// Error assertions

/** A user message is a sentence: it starts with a capital letter and ends with a full stop (or ! / ?). */
export const USER_SENTENCE = /^[A-Z][^\n]*[.!?]$/;

/** Asserts that `error` is an StsError with `code` and a readable, non-empty user message; returns it. */
export function expectStsErrorValue(error: unknown, code: StsErrorCode): StsError {
  expect(error, `expected an StsError ${code}`).toBeInstanceOf(StsError);
  const sts = error as StsError;
  expect(sts.code).toBe(code);
  expect(typeof sts.userMessage).toBe('string');
  expect(sts.userMessage.trim().length).toBeGreaterThan(0);
  expect(sts.userMessage).toMatch(USER_SENTENCE);
  expect(sts.detail.length).toBeGreaterThan(0);
  return sts;
}

/** Runs `action`, which must throw an StsError with `code` and a sentence as its user message. */
export function expectStsError(action: () => unknown, code: StsErrorCode): StsError {
  let thrown: unknown;
  let threw = false;
  try {
    action();
  } catch (error) {
    threw = true;
    thrown = error;
  }
  expect(threw, `expected ${code} to be thrown`).toBe(true);
  return expectStsErrorValue(thrown, code);
}

// ---------------------------------------------------------------------------------------------
// Small conversions shared by the tests

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error(`bad hex in fixture: ${hex}`);
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) =>
    Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16),
  );
}

export const bytesToHex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** 16 hex digits → the two-word block the engine's ciphers use ([bits 63..32, bits 31..0]). */
export function blockFromHex(hex: string): Uint32Array {
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) throw new Error(`not a 64-bit block: ${hex}`);
  return Uint32Array.of(Number.parseInt(hex.slice(0, 8), 16), Number.parseInt(hex.slice(8), 16));
}

export const blockToHex = (block: Uint32Array): string =>
  block[0]!.toString(16).padStart(8, '0') + block[1]!.toString(16).padStart(8, '0');
