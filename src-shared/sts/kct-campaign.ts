import type { DecoderKeyInputs } from './decoder-key.ts';
import { StsError } from './errors.ts';
import {
  type DecoderKeyAlgorithm,
  type EncryptionAlgorithm,
  requireDecoderKeyAlgorithm,
  requireEncryptionAlgorithm,
  requireKen,
  requireKeyType,
  requireKrn,
  requireSgc,
  requireTi,
} from './identifiers.ts';
import { generateKeyChangeTokens } from './key-change.ts';
import { decoderKeyCheckValue } from './key-check-value.ts';
import { parseMeterPan } from './meter-pan.ts';
import { requireBaseDate } from './tid.ts';
import { createTokenCipher } from './token-cipher.ts';
import type { VendingKeyring } from './vending-keyring.ts';

/**
 * One meter of a bulk key change (TID roll-over, supply-group or key-revision migration): from its
 * present key parameters to the new ones, as CSV-shaped text fields.
 *
 * Columns: pan, sgc, ti, krn, kt, ea, dkga, base_date, and the targets new_sgc, new_ti, new_krn, new_kt,
 * new_ea, new_dkga, new_base_date, new_ken; an empty or missing target keeps the present value
 * (new_ken defaults to 255). RO is set when the base date changes.
 */
export const KCT_CAMPAIGN_INPUT_COLUMNS = [
  'pan',
  'sgc',
  'ti',
  'krn',
  'kt',
  'ea',
  'dkga',
  'base_date',
  'new_sgc',
  'new_ti',
  'new_krn',
  'new_kt',
  'new_ea',
  'new_dkga',
  'new_base_date',
  'new_ken',
] as const;

export const KCT_CAMPAIGN_OUTPUT_COLUMNS = [
  'pan',
  'status',
  'kct1',
  'kct2',
  'kct3',
  'kct4',
  'new_sgc',
  'new_ti',
  'new_krn',
  'new_kt',
  'new_base_date',
  'rollover',
  'new_key_kcv',
  'error',
] as const;

export type KctCampaignRow = Partial<Record<(typeof KCT_CAMPAIGN_INPUT_COLUMNS)[number], string>>;
export type KctCampaignResult = Record<(typeof KCT_CAMPAIGN_OUTPUT_COLUMNS)[number], string>;

const int = (text: string | undefined, column: string): number => {
  if (text === undefined || !/^\d+$/.test(text.trim())) {
    throw new StsError(
      'STS_INVALID_FIELD',
      `Column ${column} must be a whole number.`,
      `column ${column}: ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
};
const or = (value: string | undefined, fallback: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? fallback : value.trim();

interface KeySide {
  dkga: DecoderKeyAlgorithm;
  ea: EncryptionAlgorithm;
  inputs: DecoderKeyInputs;
}

function presentSide(row: KctCampaignRow): KeySide {
  const ea = requireEncryptionAlgorithm(or(row.ea, 'EA07'));
  const baseDate = requireBaseDate(int(or(row.base_date, '1993'), 'base_date'));
  return {
    dkga: requireDecoderKeyAlgorithm(or(row.dkga, ea === 'EA11' ? 'DKGA04' : 'DKGA02')),
    ea,
    inputs: {
      pan: parseMeterPan(row.pan ?? ''),
      sgc: requireSgc(or(row.sgc, undefined)),
      ti: requireTi(or(row.ti, undefined)),
      krn: requireKrn(int(row.krn, 'krn')),
      keyType: requireKeyType(int(row.kt, 'kt')),
      baseDate,
      ea,
    },
  };
}

/** The target key: each new_* column that is empty keeps the present value. */
function targetSide(row: KctCampaignRow, present: KeySide): KeySide {
  const now = present.inputs;
  const ea = requireEncryptionAlgorithm(or(row.new_ea, present.ea));
  return {
    dkga: requireDecoderKeyAlgorithm(
      or(row.new_dkga, present.ea === ea ? present.dkga : ea === 'EA11' ? 'DKGA04' : 'DKGA02'),
    ),
    ea,
    inputs: {
      pan: now.pan,
      sgc: requireSgc(or(row.new_sgc, now.sgc)),
      ti: requireTi(or(row.new_ti, String(now.ti))),
      krn: requireKrn(int(or(row.new_krn, String(now.krn)), 'new_krn')),
      keyType: requireKeyType(int(or(row.new_kt, String(now.keyType)), 'new_kt')),
      baseDate: requireBaseDate(int(or(row.new_base_date, String(now.baseDate)), 'new_base_date')),
      ea,
    },
  };
}

export function runKctCampaignRow(row: KctCampaignRow, keyring: VendingKeyring): KctCampaignResult {
  const current = presentSide(row);
  const next = targetSide(row, current);
  const ken = requireKen(int(or(row.new_ken, '255'), 'new_ken'));
  const currentKey = keyring
    .deriver(current.dkga, current.inputs.sgc, current.inputs.krn)
    .derive(current.inputs);
  const newKey = keyring.deriver(next.dkga, next.inputs.sgc, next.inputs.krn).derive(next.inputs);
  const rollover = next.inputs.baseDate !== current.inputs.baseDate;
  const tokens = generateKeyChangeTokens(createTokenCipher(current.ea, currentKey), {
    newKey,
    ken,
    krn: next.inputs.krn,
    keyType: next.inputs.keyType,
    ti: next.inputs.ti,
    sgc: next.inputs.sgc,
    rollover,
  });
  return {
    pan: current.inputs.pan.pan,
    status: 'ok',
    kct1: tokens[0]?.digits ?? '',
    kct2: tokens[1]?.digits ?? '',
    kct3: tokens[2]?.digits ?? '',
    kct4: tokens[3]?.digits ?? '',
    new_sgc: next.inputs.sgc,
    new_ti: String(next.inputs.ti).padStart(2, '0'),
    new_krn: String(next.inputs.krn),
    new_kt: String(next.inputs.keyType),
    new_base_date: String(next.inputs.baseDate),
    rollover: rollover ? '1' : '0',
    new_key_kcv: decoderKeyCheckValue(newKey, next.ea),
    error: '',
  };
}

/** A row that could not be processed: reported in the output with its reason, never dropped. */
export function rejectedKctCampaignRow(row: KctCampaignRow, error: unknown): KctCampaignResult {
  const message =
    error instanceof StsError
      ? `${error.code}: ${error.userMessage}`
      : String((error as Error)?.message ?? error);
  const empty = Object.fromEntries(KCT_CAMPAIGN_OUTPUT_COLUMNS.map((c) => [c, ''])) as KctCampaignResult;
  return { ...empty, pan: row.pan ?? '', status: 'rejected', error: message };
}
