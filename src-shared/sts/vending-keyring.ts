import { createDecoderKeyDeriver, type DecoderKeyDeriver } from './decoder-key.ts';
import { StsError } from './errors.ts';
import {
  type DecoderKeyAlgorithm,
  requireDecoderKeyAlgorithm,
  requireKrn,
  requireSgc,
} from './identifiers.ts';
import { SecretKey } from './secret-key.ts';

/** One supply group's vending key at one key revision. */
export interface VendingKeyEntry {
  dkga: DecoderKeyAlgorithm;
  sgc: string;
  krn: number;
  key: SecretKey;
}

/**
 * The vending keys a process holds, looked up by algorithm, supply group and key revision. Each key's
 * cipher or HMAC state is set up once, so bulk work (campaigns, benchmarks) derives at full speed.
 */
export class VendingKeyring {
  readonly #derivers = new Map<string, DecoderKeyDeriver>();

  constructor(entries: Iterable<VendingKeyEntry>) {
    for (const entry of entries) {
      const id = VendingKeyring.#id(entry.dkga, entry.sgc, entry.krn);
      if (this.#derivers.has(id)) {
        throw new StsError(
          'STS_INVALID_KEY',
          'A vending key is listed twice.',
          `duplicate vending key for ${id}`,
        );
      }
      this.#derivers.set(id, createDecoderKeyDeriver(entry.dkga, entry.key));
    }
  }

  /** Parses `{ "vendingKeys": [{ "dkga", "sgc", "krn", "key" }] }` (key in hex). */
  static fromJson(document: unknown): VendingKeyring {
    const list = (document as { vendingKeys?: unknown })?.vendingKeys;
    if (!Array.isArray(list)) {
      throw new StsError(
        'STS_INVALID_REQUEST',
        'The vending key file must hold a "vendingKeys" list.',
        'expected { "vendingKeys": [{ "dkga", "sgc", "krn", "key" }] }',
      );
    }
    return new VendingKeyring(
      list.map((item: Record<string, unknown>, index) => {
        if (typeof item?.key !== 'string') {
          throw new StsError(
            'STS_INVALID_REQUEST',
            `Vending key entry ${index + 1} has no "key".`,
            `vendingKeys[${index}].key missing`,
          );
        }
        return {
          dkga: requireDecoderKeyAlgorithm(item.dkga),
          sgc: requireSgc(item.sgc),
          krn: requireKrn(item.krn),
          key: SecretKey.fromHex(item.key, `vending key ${index + 1}`),
        };
      }),
    );
  }

  get size(): number {
    return this.#derivers.size;
  }

  deriver(dkga: DecoderKeyAlgorithm, sgc: string, krn: number): DecoderKeyDeriver {
    const deriver = this.#derivers.get(VendingKeyring.#id(dkga, sgc, krn));
    if (!deriver) {
      throw new StsError(
        'STS_INVALID_KEY',
        `There is no vending key for supply group ${sgc}, key revision ${krn}.`,
        `no ${dkga} vending key loaded for SGC ${sgc} KRN ${krn}`,
      );
    }
    return deriver;
  }

  static #id(dkga: DecoderKeyAlgorithm, sgc: string, krn: number): string {
    return `${dkga}/${sgc}/${krn}`;
  }
}
