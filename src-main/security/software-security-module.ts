import type { StsError } from '../../src-shared/sts/errors.ts';
import { generateKeyChangeTokens } from '../../src-shared/sts/key-change.ts';
import { decoderKeyCheckValue } from '../../src-shared/sts/key-check-value.ts';
import type { SecretKey } from '../../src-shared/sts/secret-key.ts';
import { createTokenCipher } from '../../src-shared/sts/token-cipher.ts';
import { decodeToken, encodeToken } from '../../src-shared/sts/token-codec.ts';
import type { DecodedBlock } from '../../src-shared/sts/token-payload.ts';
import { VendingKeyring } from '../../src-shared/sts/vending-keyring.ts';
import { SecurityError } from './errors.ts';
import type { AuthorityStore, MeterKeyData, SecurityModule, VendingAuthority } from './security-module.ts';

export interface LoadedVendingKey {
  dkga: MeterKeyData['dkga'];
  sgc: string;
  krn: number;
  key: SecretKey;
}

/**
 * Software security module: vending keys unsealed into memory at start, authority kept in the ledger. A key
 * asked for but not held is looked up once more through `reload` (a supply group that arrived from head office
 * while the engine runs), so new keys need no restart.
 */
export class SoftwareSecurityModule implements SecurityModule {
  #keyring: VendingKeyring;
  readonly #authority: AuthorityStore;
  readonly #reload: (() => LoadedVendingKey[]) | null;

  constructor(
    keys: LoadedVendingKey[],
    authority: AuthorityStore,
    reload: (() => LoadedVendingKey[]) | null = null,
  ) {
    this.#keyring = new VendingKeyring(keys);
    this.#authority = authority;
    this.#reload = reload;
  }

  #deriver(meter: MeterKeyData): ReturnType<VendingKeyring['deriver']> {
    try {
      return this.#keyring.deriver(meter.dkga, meter.sgc, meter.krn);
    } catch (error) {
      if (!this.#reload) throw error;
      this.#keyring = new VendingKeyring(this.#reload());
      return this.#keyring.deriver(meter.dkga, meter.sgc, meter.krn);
    }
  }

  #decoderKey(meter: MeterKeyData): SecretKey {
    let deriver: ReturnType<VendingKeyring['deriver']>;
    try {
      deriver = this.#deriver(meter);
    } catch (error) {
      throw new SecurityError(
        'SECURITY_NO_VENDING_KEY',
        `This outlet has no vending key for supply group ${meter.sgc} (key revision ${meter.krn}).`,
        (error as StsError).detail,
      );
    }
    return deriver.derive({
      pan: meter.pan,
      keyType: meter.keyType,
      sgc: meter.sgc,
      ti: meter.ti,
      krn: meter.krn,
      baseDate: meter.baseDate,
      ea: meter.ea,
    });
  }

  checkAuthority(valueMinor: number, at: Date): void {
    const authority = this.#authority.read();
    const validUntil = Date.parse(authority.validUntil);
    // An unreadable date counts as expired: authority must be proven, never assumed.
    if (Number.isNaN(validUntil) || at.getTime() > validUntil) {
      throw new SecurityError(
        'SECURITY_AUTHORITY_EXPIRED',
        'This outlet’s vending authority has expired. Ask head office to renew it before selling.',
        `vending authority valid until ${authority.validUntil}; now ${at.toISOString()}`,
      );
    }
    if (authority.usedMinor + valueMinor > authority.creditLimitMinor) {
      throw new SecurityError(
        'SECURITY_AUTHORITY_LIMIT',
        'This sale would pass the outlet’s vending credit limit. Ask head office to raise the limit.',
        `authority used ${authority.usedMinor} + ${valueMinor} > limit ${authority.creditLimitMinor} (minor units)`,
      );
    }
  }

  issueToken(meter: MeterKeyData, payload: Parameters<typeof encodeToken>[0], valueMinor: number, at: Date) {
    this.checkAuthority(valueMinor, at);
    const token = encodeToken(
      payload,
      payload.type === 'initiate-test' ? null : createTokenCipher(meter.ea, this.#decoderKey(meter)),
    );
    if (valueMinor > 0) this.#authority.consume(valueMinor);
    return token;
  }

  issueKeyChange(meter: MeterKeyData, target: MeterKeyData, rollover: boolean, at: Date) {
    this.checkAuthority(0, at);
    return generateKeyChangeTokens(createTokenCipher(meter.ea, this.#decoderKey(meter)), {
      newKey: this.#decoderKey(target),
      ken: target.ken,
      krn: target.krn,
      keyType: target.keyType,
      ti: target.ti,
      sgc: target.sgc,
      rollover,
    });
  }

  readToken(meter: MeterKeyData, digits: string): DecodedBlock {
    const { plain: _plain, ...read } = decodeToken(
      digits,
      createTokenCipher(meter.ea, this.#decoderKey(meter)),
    );
    // A key change section carries part of the new decoder key: it never leaves the module.
    return 'keyWord' in read.payload ? { ...read, payload: { ...read.payload, keyWord: 0 } } : read;
  }

  decoderKeyCheckValue(meter: MeterKeyData): string {
    return decoderKeyCheckValue(this.#decoderKey(meter), meter.ea);
  }

  authority(): VendingAuthority {
    return this.#authority.read();
  }
}
