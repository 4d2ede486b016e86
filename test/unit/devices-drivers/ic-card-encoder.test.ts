import { describe, expect, it } from 'vitest';
import { type IcPhase, Sle4442Encoder } from '../../../src-main/devices/drivers/ic-card-encoder.ts';
import { SimulatedPcscReader, Sle4442Card } from '../../../src-main/devices/simulators/sle4442.ts';
import { DEFAULT_IC_CARD_LAYOUT } from '../../../src-shared/devices/ic-card-layout.ts';
import { ACS_ACR38_PROFILE, OMNIKEY_PROFILE } from '../../../src-shared/devices/sle4442.ts';
import { rejection, settle } from './support.ts';

const PSC = Uint8Array.of(0x12, 0x34, 0x56);
const WRONG = Uint8Array.of(0x00, 0x00, 0x00);
const CONTENT = {
  meterNo: '04040404040',
  sequence: 7,
  tokens: ['12345678901234567890', '09876543210987654321'],
};

function setup(cardOptions: ConstructorParameters<typeof Sle4442Card>[0] = { psc: [0x12, 0x34, 0x56] }) {
  const card = new Sle4442Card(cardOptions);
  const reader = new SimulatedPcscReader({ card });
  const encoder = new Sle4442Encoder(reader, ACS_ACR38_PROFILE, { commandTimeoutMs: 500 });
  return { card, reader, encoder };
}

const verifies = (reader: SimulatedPcscReader) => reader.apdus.filter((a) => a[1] === 0x20).length;

describe('SLE4442 encoder (ACS profile) over a simulated PC/SC reader', () => {
  it('writes the purchase record after checking the counter, reads it back and returns what the card holds', async () => {
    const { encoder, reader, card } = setup();
    const phases: IcPhase[] = [];
    const written = await encoder.writeRecord({
      content: CONTENT,
      layout: DEFAULT_IC_CARD_LAYOUT,
      psc: PSC,
      onPhase: (p) => void phases.push(p),
    });
    expect(written).toEqual(CONTENT);
    expect(phases).toEqual(['writing', 'verifying']);
    // select, read record, read error counter, verify, update, read back (compare), read back (decode).
    expect(reader.apdus.map((a) => a[1])).toEqual([0xa4, 0xb0, 0xb1, 0x20, 0xd0, 0xb0, 0xb0]);
    expect(card.errorCounter).toBe(0x07);
    expect(await encoder.readRecord(DEFAULT_IC_CARD_LAYOUT)).toEqual(CONTENT);
  });

  it('a wrong PSC is CARD_PSC_WRONG with 2 tries left, presented once and never retried', async () => {
    const { encoder, reader, card } = setup();
    const error = await rejection(
      encoder.writeRecord({ content: CONTENT, layout: DEFAULT_IC_CARD_LAYOUT, psc: WRONG }),
      'CARD_PSC_WRONG',
    );
    expect((error as unknown as { triesLeft: number }).triesLeft).toBe(2);
    expect(verifies(reader)).toBe(1);
    expect(card.errorCounter).toBe(0x06);
    expect(reader.apdus.some((a) => a[1] === 0xd0)).toBe(false);
  });

  it('after a wrong attempt the next write refuses before presenting any PSC (tries are low: an operator decides)', async () => {
    const { encoder, reader, card } = setup({ psc: [0x12, 0x34, 0x56], errorCounter: 0x06 });
    const error = await rejection(
      encoder.writeRecord({ content: CONTENT, layout: DEFAULT_IC_CARD_LAYOUT, psc: PSC }),
      'CARD_PSC_WRONG',
    );
    expect(error.userMessage).toMatch(/supervisor/);
    expect(verifies(reader)).toBe(0);
    expect(card.errorCounter).toBe(0x06);
  });

  it('an operator may allow one remaining try; the right PSC restores the counter', async () => {
    const card = new Sle4442Card({ psc: [0x12, 0x34, 0x56], errorCounter: 0x04 });
    const reader = new SimulatedPcscReader({ card });
    const encoder = new Sle4442Encoder(reader, ACS_ACR38_PROFILE, { minTriesLeft: 1 });
    await encoder.writeRecord({ content: CONTENT, layout: DEFAULT_IC_CARD_LAYOUT, psc: PSC });
    expect(card.errorCounter).toBe(0x07);
  });

  it('a locked card is CARD_LOCKED and no PSC is presented', async () => {
    const { encoder, reader } = setup({ psc: [0x12, 0x34, 0x56], errorCounter: 0x00 });
    await rejection(
      encoder.writeRecord({ content: CONTENT, layout: DEFAULT_IC_CARD_LAYOUT, psc: PSC }),
      'CARD_LOCKED',
    );
    expect(verifies(reader)).toBe(0);
  });

  it('three wrong PSCs, each an explicit call, lock the card (the lockout the counter protects against)', async () => {
    const { encoder, card } = setup();
    const permissive = new Sle4442Encoder(encoder.transport, ACS_ACR38_PROFILE, { minTriesLeft: 1 });
    await rejection(permissive.presentPsc(WRONG), 'CARD_PSC_WRONG');
    await rejection(permissive.presentPsc(WRONG), 'CARD_PSC_WRONG');
    await rejection(permissive.presentPsc(WRONG), 'CARD_LOCKED');
    expect(card.locked).toBe(true);
    await rejection(permissive.presentPsc(PSC), 'CARD_LOCKED');
  });

  it('a card of another meter is CARD_WRONG before any PSC', async () => {
    const { encoder, reader } = setup();
    await encoder.writeRecord({ content: CONTENT, layout: DEFAULT_IC_CARD_LAYOUT, psc: PSC });
    reader.apdus.length = 0;
    await rejection(
      encoder.writeRecord({
        content: { ...CONTENT, meterNo: '01234567890' },
        layout: DEFAULT_IC_CARD_LAYOUT,
        psc: PSC,
      }),
      'CARD_WRONG',
    );
    expect(verifies(reader)).toBe(0);
  });

  it('a card whose ATR is not an SLE4442 is CARD_WRONG', async () => {
    const card = new Sle4442Card();
    card.atr.set([0x3b, 0x8f, 0x80, 0x01]);
    const encoder = new Sle4442Encoder(new SimulatedPcscReader({ card }), ACS_ACR38_PROFILE);
    await rejection(encoder.readRecord(DEFAULT_IC_CARD_LAYOUT), 'CARD_WRONG');
  });

  it('a write the chip stores wrongly is CARD_WRITE_VERIFY_FAILED', async () => {
    const { encoder, card } = setup();
    card.failNextWrite = true;
    await rejection(
      encoder.writeRecord({ content: CONTENT, layout: DEFAULT_IC_CARD_LAYOUT, psc: PSC }),
      'CARD_WRITE_VERIFY_FAILED',
    );
  });

  it('waits for a card to be inserted, and a cancelled wait is DEVICE_CANCELLED', async () => {
    const reader = new SimulatedPcscReader();
    const encoder = new Sle4442Encoder(reader, ACS_ACR38_PROFILE);
    const phases: IcPhase[] = [];
    const read = encoder.readRecord(DEFAULT_IC_CARD_LAYOUT, { onPhase: (p) => void phases.push(p) });
    await settle();
    reader.insert(new Sle4442Card());
    expect(await read).toBeNull();
    expect(phases).toEqual(['insert-card']);
    reader.remove();
    const controller = new AbortController();
    const waiting = encoder.waitForCard({ signal: controller.signal });
    await settle();
    controller.abort();
    await rejection(waiting, 'DEVICE_CANCELLED');
  });

  it('no card inserted in time is DEVICE_TIMEOUT', async () => {
    const encoder = new Sle4442Encoder(new SimulatedPcscReader(), ACS_ACR38_PROFILE);
    await rejection(encoder.waitForCard({ insertTimeoutMs: 30 }), 'DEVICE_TIMEOUT');
  });

  it('the card pulled out mid-operation is DEVICE_DISCONNECTED', async () => {
    const { encoder, reader } = setup();
    await encoder.waitForCard();
    reader.remove();
    await rejection(encoder.readMemory(32, 16), 'DEVICE_DISCONNECTED');
  });

  it('bad input is refused before the card is touched', async () => {
    const { encoder, reader } = setup();
    await rejection(
      encoder.writeRecord({
        content: { ...CONTENT, tokens: ['123'] },
        layout: DEFAULT_IC_CARD_LAYOUT,
        psc: PSC,
      }),
      'DEVICE_INVALID_DATA',
    );
    await rejection(
      encoder.writeRecord({ content: CONTENT, layout: DEFAULT_IC_CARD_LAYOUT, psc: Uint8Array.of(1) }),
      'DEVICE_INVALID_DATA',
    );
    expect(reader.apdus).toEqual([]);
  });
});

describe('OMNIKEY profile', () => {
  it('refuses to present a PSC because it cannot read the error counter', async () => {
    const card = new Sle4442Card({ psc: [0x12, 0x34, 0x56] });
    const reader = new SimulatedPcscReader({ card, profile: 'omnikey' });
    const encoder = new Sle4442Encoder(reader, OMNIKEY_PROFILE);
    const error = await rejection(
      encoder.writeRecord({ content: CONTENT, layout: DEFAULT_IC_CARD_LAYOUT, psc: PSC }),
      'DEVICE_PROTOCOL_ERROR',
    );
    expect(error.userMessage).toMatch(/tries/);
    expect(verifies(reader)).toBe(0);
    expect(await encoder.readRecord(DEFAULT_IC_CARD_LAYOUT)).toBeNull();
  });
});
