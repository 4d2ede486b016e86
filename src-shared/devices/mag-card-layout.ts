import {
  type CarrierContent,
  requireCarrierToken,
  requireMeterNoDigits,
  requireSequence,
} from './carrier-content.ts';
import { CardDataError, DeviceDataError } from './device-errors.ts';
import {
  characterValue,
  requireTrackNumber,
  TRACK_FORMATS,
  type TrackNumber,
  type TrackSet,
  validateTrackData,
} from './iso-track.ts';

/**
 * Magnetic-card carrier layouts: where a sale's tokens go on a card, per meter vendor.
 *
 * The STS magnetic-card layout (IEC 62055-51 / NRS 009-6-8) is not public, so nothing here claims to be it
 * (hardware.md §2.5). A layout is configuration: which track, which fields in which order, the separator, the
 * sequence width. Vendors with other formats plug in their own `MagCardCarrierCodec`.
 *
 * Default layout (`DEFAULT_MAG_CARD_LAYOUT`, OpenVend's own): track 3 (104 numeric characters),
 * `meterNo = sequence = token1 [= token2 …]`, sequence 4 digits, meter number 11–13 digits, up to 4 tokens:
 *   ;04040404040=0007=12345678901234567890=09876543210987654321?
 * (the encoder adds the sentinels and LRC). Tokens stay in entry order, key change tokens first.
 */

export type MagCardField = 'meter-no' | 'sequence' | 'tokens';

export interface MagCardLayoutConfig {
  id: string;
  description: string;
  track: TrackNumber;
  /** Field order; 'tokens' exactly once (it expands to every token), the others at most once. */
  fields: readonly MagCardField[];
  /** One character of the track set that is not a digit or sentinel ('=' is ISO's separator on tracks 2/3). */
  separator: string;
  sequenceDigits: number;
  meterNoDigits: { min: number; max: number };
  maxTokens: number;
}

export interface MagCardCarrierCodec {
  id: string;
  description: string;
  track: TrackNumber;
  /** Track data (no sentinels) for the layout's track only; other tracks are left alone. */
  encode(content: CarrierContent): TrackSet;
  /** Reads a card's tracks back; CardDataError when the layout's track is missing or malformed. */
  decode(tracks: TrackSet): CarrierContent;
}

export const DEFAULT_MAG_CARD_LAYOUT: MagCardLayoutConfig = {
  id: 'openvend-default',
  description: 'OpenVend default: track 3, meter number = sequence = tokens',
  track: 3,
  fields: ['meter-no', 'sequence', 'tokens'],
  separator: '=',
  sequenceDigits: 4,
  meterNoDigits: { min: 11, max: 13 },
  maxTokens: 4,
};

function configError(config: MagCardLayoutConfig, detail: string): DeviceDataError {
  return new DeviceDataError(
    `The magnetic card layout "${config.id}" is not valid. Check the card settings.`,
    `layout ${config.id}: ${detail}`,
  );
}

function validateConfig(config: MagCardLayoutConfig): void {
  const track = requireTrackNumber(config.track);
  const format = TRACK_FORMATS[track];
  const count = (field: MagCardField): number => config.fields.filter((f) => f === field).length;
  if (count('tokens') !== 1 || count('meter-no') > 1 || count('sequence') > 1) {
    throw configError(
      config,
      `fields ${JSON.stringify(config.fields)} need 'tokens' once, others at most once`,
    );
  }
  const sep = config.separator;
  if (
    sep.length !== 1 ||
    /\d/.test(sep) ||
    sep === format.startSentinel ||
    sep === format.endSentinel ||
    characterValue(track, sep) < 0
  ) {
    throw configError(config, `separator ${JSON.stringify(sep)} is not a non-digit track ${track} character`);
  }
  const { min, max } = config.meterNoDigits;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min || max > 20) {
    throw configError(config, `meter number digits ${min}..${max}`);
  }
  if (!Number.isInteger(config.sequenceDigits) || config.sequenceDigits < 1 || config.sequenceDigits > 9) {
    throw configError(config, `sequence digits ${config.sequenceDigits}`);
  }
  if (!Number.isInteger(config.maxTokens) || config.maxTokens < 1) {
    throw configError(config, `max tokens ${config.maxTokens}`);
  }
}

/** A codec for a field layout; the config is checked once, here. */
export function magCardLayout(config: MagCardLayoutConfig): MagCardCarrierCodec {
  validateConfig(config);
  const { track, fields, separator: sep, sequenceDigits, maxTokens } = config;
  const maxSequence = 10 ** sequenceDigits - 1;
  const capacity = TRACK_FORMATS[track].maxDataChars;

  const encode = (content: CarrierContent): TrackSet => {
    const tokens = content.tokens;
    if (!Array.isArray(tokens) || tokens.length === 0 || tokens.length > maxTokens) {
      throw new DeviceDataError(
        `A card of this type holds 1 to ${maxTokens} tokens; this sale has ${tokens?.length ?? 0}.`,
        `layout ${config.id}: ${tokens?.length ?? 0} tokens, allowed 1..${maxTokens}`,
      );
    }
    const parts: string[] = [];
    for (const field of fields) {
      if (field === 'tokens') parts.push(...tokens.map((token, i) => requireCarrierToken(token, i)));
      else if (field === 'meter-no') {
        parts.push(requireMeterNoDigits(content.meterNo, config.meterNoDigits.min, config.meterNoDigits.max));
      } else {
        parts.push(String(requireSequence(content.sequence, maxSequence)).padStart(sequenceDigits, '0'));
      }
    }
    const data = parts.join(sep);
    if (data.length > capacity) {
      throw new DeviceDataError(
        `${tokens.length} tokens do not fit on track ${track} of one card (${data.length} of ${capacity} characters). Write fewer tokens per card.`,
        `layout ${config.id}: ${data.length} characters exceed track ${track} capacity ${capacity}`,
      );
    }
    return { [track]: validateTrackData(track, data) };
  };

  const decode = (tracks: TrackSet): CarrierContent => {
    const data = tracks[track];
    const fail = (detail: string): never => {
      throw new CardDataError(`layout ${config.id}, track ${track}: ${detail}`);
    };
    if (data === undefined || data === '') {
      throw new CardDataError(
        `layout ${config.id}: track ${track} is empty`,
        `This card holds no tokens (track ${track} is empty).`,
      );
    }
    const parts = data.split(sep);
    const others = fields.length - 1;
    const tokenCount = parts.length - others;
    if (tokenCount < 1) fail(`${parts.length} fields, expected at least ${fields.length}`);
    const tokensAt = fields.indexOf('tokens');
    const content: CarrierContent = { tokens: [] };
    const make = (_message: string, detail: string) => new CardDataError(`layout ${config.id}: ${detail}`);
    fields.forEach((field, f) => {
      if (field === 'tokens') {
        content.tokens = parts
          .slice(tokensAt, tokensAt + tokenCount)
          .map((token, i) => requireCarrierToken(token, i, make));
        return;
      }
      const part = parts[f < tokensAt ? f : f + tokenCount - 1]!;
      if (field === 'meter-no') {
        content.meterNo = requireMeterNoDigits(
          part,
          config.meterNoDigits.min,
          config.meterNoDigits.max,
          make,
        );
      } else {
        if (part.length !== sequenceDigits || !/^\d+$/.test(part)) {
          fail(`sequence field of ${part.length} characters is not ${sequenceDigits} digits`);
        }
        content.sequence = Number(part);
      }
    });
    return content;
  };

  return { id: config.id, description: config.description, track, encode, decode };
}

export const DEFAULT_MAG_CARD_CODEC: MagCardCarrierCodec = magCardLayout(DEFAULT_MAG_CARD_LAYOUT);

/**
 * The meter number from a meter ID card's track 2 (swiped at the vend screen). NRS 009-4-1's track 2 layout is not
 * public; the default takes the digits before the first field separator (ISO 7813 style), or the whole track when
 * there is none. Vendors with another layout pass their own function to the card reader.
 */
export type MeterCardParser = (track2: string) => string;

export const defaultMeterCardParser: MeterCardParser = (track2) => {
  const meterNo = track2.split(TRACK_FORMATS[2].fieldSeparator)[0] ?? '';
  if (!/^\d{1,20}$/.test(meterNo)) {
    throw new CardDataError(
      `meter card track 2 starts with ${meterNo.length} characters that are not 1..20 digits`,
      'This card does not hold a meter number. Swipe the meter card, or type the meter number.',
    );
  }
  return meterNo;
};
