import type { DecoderKeyAlgorithm, EncryptionAlgorithm, KeyType } from '../../src-shared/sts/identifiers.ts';
import type { MeterPan } from '../../src-shared/sts/meter-pan.ts';
import type { BaseDate } from '../../src-shared/sts/tid.ts';
import type { EncodedToken } from '../../src-shared/sts/token-codec.ts';
import type { DecodedBlock, TokenPayload } from '../../src-shared/sts/token-payload.ts';

/** Everything a security module needs to know about a meter's key (never the key itself). */
export interface MeterKeyData {
  pan: MeterPan;
  sgc: string;
  ti: number;
  krn: number;
  keyType: KeyType;
  ea: EncryptionAlgorithm;
  dkga: DecoderKeyAlgorithm;
  baseDate: BaseDate;
  ken: number;
}

export interface VendingAuthority {
  creditLimitMinor: number;
  usedMinor: number;
  /** ISO-8601 instant after which no token may be issued. */
  validUntil: string;
}

/** Where the module keeps its authority counter; the software module uses the outlet ledger (same transaction). */
export interface AuthorityStore {
  read(): VendingAuthority;
  consume(minor: number): void;
}

/**
 * The one place where vending keys are used. The software module implements it today; a hardware
 * security module can replace it without touching the vend engine.
 */
export interface SecurityModule {
  /** Issues one token. Credit worth `valueMinor` counts against the vending authority, which must cover it. */
  issueToken(meter: MeterKeyData, payload: TokenPayload, valueMinor: number, at: Date): EncodedToken;
  /** The key change token set from the meter's present key to `target`, encrypted under the present key. */
  issueKeyChange(meter: MeterKeyData, target: MeterKeyData, rollover: boolean, at: Date): EncodedToken[];
  /**
   * Reads a token with the meter's decoder key (to explain it). Throws StsError STS_BAD_CRC when the key is
   * not the one the token was made with. Key change sections come back with their key words zeroed.
   */
  readToken(meter: MeterKeyData, digits: string): DecodedBlock;
  /** The decoder key's check value, for display. */
  decoderKeyCheckValue(meter: MeterKeyData): string;
  authority(): VendingAuthority;
  /**
   * Throws the error issueToken would throw for a token of this value now (expired authority, credit limit),
   * without issuing or consuming anything: the trial vend warns before money is taken.
   */
  checkAuthority(valueMinor: number, at: Date): void;
}
