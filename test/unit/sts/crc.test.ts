import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16Modbus, swapCrcBytes, tokenCrcField } from '../../../src-shared/sts/crc.ts';
import { hexToBytes, vectorsOfKind } from '../../support/sts-vectors.ts';

const ascii = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

/** Bit-by-bit CRC-16/MODBUS straight from the definition (reflected 0x8005 = 0xA001, init 0xFFFF). */
function referenceModbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** The 7 big-endian CRC bytes of `class | subclass | data44` as §4 describes them. */
function crcBytes(tokenClass: number, hi: number, lo: number): Uint8Array {
  return Uint8Array.of(
    tokenClass & 3,
    hi >>> 24,
    (hi >>> 16) & 255,
    (hi >>> 8) & 255,
    hi & 255,
    lo >>> 24,
    (lo >>> 16) & 255,
  );
}

const word = fc.nat({ max: 0xffffffff });

describe('crc16Modbus', () => {
  it('has the CRC-16/MODBUS check value 0x4B37 for "123456789"', () => {
    expect(crc16Modbus(ascii('123456789'))).toBe(0x4b37);
  });

  it('starts from 0xFFFF (empty input) and is not CCITT-FALSE', () => {
    expect(crc16Modbus(new Uint8Array())).toBe(0xffff);
    // CRC-16/CCITT-FALSE of "123456789" is 0x29B1; the STS CRC must not be that.
    expect(crc16Modbus(ascii('123456789'))).not.toBe(0x29b1);
  });

  it('gives the §4 IEC example: 000B19EB230100 → register 0x07C2, field 0xC207 (49671)', () => {
    const register = crc16Modbus(hexToBytes('000b19eb230100'));
    expect(register).toBe(0x07c2);
    expect(swapCrcBytes(register)).toBe(0xc207);
    expect(swapCrcBytes(register)).toBe(49671);
    // The same block as the 50-bit integer 12205947027712.
    expect(0x000b19eb230100).toBe(12205947027712);
  });

  it('gives the §4 examples 00004A2D900FF2 → 0xFA0F and CTSA01 step 1 00055998630001 → 0xE619', () => {
    expect(crc16Modbus(hexToBytes('00004a2d900ff2'))).toBe(0xfa0f);
    expect(swapCrcBytes(0xfa0f)).toBe(0x0ffa);
    expect(crc16Modbus(hexToBytes('00055998630001'))).toBe(0xe619);
    expect(swapCrcBytes(0xe619)).toBe(0x19e6);
  });

  it('the CCITT-FALSE value 0x18E8 quoted in §4 for the IEC example is not what we compute', () => {
    expect(swapCrcBytes(crc16Modbus(hexToBytes('000b19eb230100')))).not.toBe(0x18e8);
  });

  it.each(vectorsOfKind('crc').map((v) => [v.id, v] as const))('fixture %s', (_id, vector) => {
    const { inputs, expected } = vector;
    if (inputs.bytes_ascii !== undefined) {
      const register = crc16Modbus(ascii(inputs.bytes_ascii));
      expect(register.toString(16).padStart(4, '0')).toBe(expected.crc_register_hex);
      expect(swapCrcBytes(register).toString(16).padStart(4, '0')).toBe(
        expected.crc16_as_stored_hex_byteswapped,
      );
      return;
    }
    const bytes = hexToBytes(inputs.crc_input_7_bytes_hex!);
    expect(bytes).toHaveLength(7);
    // The 50-bit form is the same number as the 7 bytes (top 6 bits zero).
    expect(BigInt(`0x${inputs.crc_input_50bit_hex}`)).toBe(BigInt(`0x${inputs.crc_input_7_bytes_hex}`));
    expect(BigInt(`0x${inputs.crc_input_50bit_hex}`) >> 50n).toBe(0n);
    const register = crc16Modbus(bytes);
    expect(register.toString(16).padStart(4, '0')).toBe(expected.crc_register_before_byteswap_hex);
    expect(swapCrcBytes(register).toString(16).padStart(4, '0')).toBe(expected.crc16_as_stored_hex);
    // tokenCrcField over the same 50 bits gives the stored field.
    const hi = Number.parseInt(inputs.crc_input_7_bytes_hex!.slice(2, 10), 16);
    const lo = Number.parseInt(inputs.crc_input_7_bytes_hex!.slice(10, 14), 16) << 16;
    const tokenClass = Number.parseInt(inputs.crc_input_7_bytes_hex!.slice(0, 2), 16);
    expect(
      tokenCrcField(tokenClass, hi, lo >>> 0)
        .toString(16)
        .padStart(4, '0'),
    ).toBe(expected.crc16_as_stored_hex);
  });

  it('matches a bit-by-bit reference on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(crc16Modbus(bytes)).toBe(referenceModbus(bytes));
      }),
    );
  });

  it('always returns a 16-bit value (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
        const crc = crc16Modbus(bytes);
        expect(Number.isInteger(crc) && crc >= 0 && crc <= 0xffff).toBe(true);
      }),
    );
  });
});

describe('swapCrcBytes', () => {
  it('swaps the two bytes', () => {
    expect(swapCrcBytes(0x1234)).toBe(0x3412);
    expect(swapCrcBytes(0x00ff)).toBe(0xff00);
    expect(swapCrcBytes(0xff00)).toBe(0x00ff);
  });

  it('is an involution on 16-bit values (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff }), (value) => {
        expect(swapCrcBytes(swapCrcBytes(value))).toBe(value);
      }),
    );
  });
});

describe('tokenCrcField', () => {
  it('gives 0x19E6 for CTSA01 step 1 (class 0, block 0x0559986300019E6 top)', () => {
    expect(tokenCrcField(0, 0x05599863, 0x000119e6)).toBe(0x19e6);
  });

  it('gives 0xC207 for the IEC example block 0x0B19EB230100xxxx', () => {
    expect(tokenCrcField(0, 0x0b19eb23, 0x0100c207)).toBe(0xc207);
  });

  it('agrees with crc16Modbus over the 7 bytes, then byte-swapped (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), word, word, (tokenClass, hi, lo) => {
        const expected = swapCrcBytes(crc16Modbus(crcBytes(tokenClass, hi, lo)));
        expect(tokenCrcField(tokenClass, hi, lo)).toBe(expected);
      }),
    );
  });

  it('ignores the low 16 bits of `lo` (the CRC slot itself) (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), word, word, fc.nat({ max: 0xffff }), (c, hi, lo, junk) => {
        const clean = (lo & 0xffff0000) >>> 0;
        expect(tokenCrcField(c, hi, (clean | junk) >>> 0)).toBe(tokenCrcField(c, hi, clean));
      }),
    );
  });

  it('covers the class bits: a different class gives a different CRC (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        word,
        word,
        (c, d, hi, lo) => {
          expect(tokenCrcField(c, hi, lo)).not.toBe(tokenCrcField((c + d) & 3, hi, lo));
        },
      ),
    );
  });

  it('detects every single-bit error in the 50 covered bits (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        word,
        word,
        fc.integer({ min: 0, max: 49 }),
        (c, hi, lo, bit) => {
          let c2 = c;
          let hi2 = hi;
          let lo2 = lo;
          if (bit < 16) lo2 = (lo ^ (1 << (bit + 16))) >>> 0;
          else if (bit < 48) hi2 = (hi ^ (1 << (bit - 16))) >>> 0;
          else c2 = c ^ (1 << (bit - 48));
          expect(tokenCrcField(c2, hi2, lo2)).not.toBe(tokenCrcField(c, hi, lo));
        },
      ),
    );
  });

  it('CRC_C is the same computation over the 7 bytes followed by one extra 0x01 byte (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), word, word, (tokenClass, hi, lo) => {
        const bytes = crcBytes(tokenClass, hi, lo);
        const withOne = Uint8Array.of(...bytes, 0x01);
        expect(tokenCrcField(tokenClass, hi, lo, true)).toBe(swapCrcBytes(crc16Modbus(withOne)));
        // …and it is never the plain CRC: appending a byte always changes a CRC-16 register.
        expect(tokenCrcField(tokenClass, hi, lo, true)).not.toBe(tokenCrcField(tokenClass, hi, lo, false));
      }),
    );
  });

  it('CRC_C of the §5.3 example (currency 100, class 0 sub 4, TID 5871715) is 0x8504', () => {
    // Block 0x40599863DFF6xxxx: subclass 4, S&E 0, TID 0x599863, amount field 0xDFF6.
    expect(tokenCrcField(0, 0x40599863, 0xdff60000, true)).toBe(0x8504);
    expect(tokenCrcField(0, 0x40599863, 0xdff60000, false)).not.toBe(0x8504);
  });
});
