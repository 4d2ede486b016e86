import { describe, expect, it } from 'vitest';
import { MsrEncoder, type SwipePhase } from '../../../src-main/devices/drivers/msr-encoder.ts';
import { SimulatedHidDevice } from '../../../src-main/devices/simulators/hid-device.ts';
import { MsrSimulator, type MsrSimulatorOptions } from '../../../src-main/devices/simulators/msr.ts';
import { HidTransport } from '../../../src-main/devices/transports/hid.ts';
import { createMemoryLink } from '../../../src-main/devices/transports/memory.ts';
import type { TrackSet } from '../../../src-shared/devices/iso-track.ts';
import { mockSerialCable, rejection, settle } from './support.ts';

const METER_CARD: TrackSet = { 1: 'OPENVEND^METER CARD', 2: '04040404040=0001' };
const TOKENS: TrackSet = { 3: '04040404040=0007=12345678901234567890' };

function encoderOverMock(options: MsrSimulatorOptions = {}, timeouts = {}) {
  const cable = mockSerialCable({ vendorId: '0801', productId: '0002' });
  const simulator = new MsrSimulator(cable.device, options);
  const encoder = new MsrEncoder(cable.transport, {
    commandTimeoutMs: 500,
    swipeTimeoutMs: 2000,
    ...timeouts,
  });
  return { ...cable, simulator, encoder };
}

/** Swipes once the device waits (what a person does when the yellow LED is on). */
async function swipeWhenArmed(simulator: MsrSimulator, card?: TrackSet): Promise<void> {
  for (let i = 0; i < 200 && simulator.waitingFor === null; i++) await settle(1);
  expect(simulator.swipe(card)).toBe(true);
}

describe('MSR206/605 encoder over SerialPortMock', () => {
  it('probes (ESC e → ESC y, firmware) and configures Hi-Co, BPI and leading zeros', async () => {
    const { encoder, simulator } = encoderOverMock();
    expect(await encoder.probe()).toEqual({ firmware: 'REV01.00' });
    await encoder.configure({
      coercivity: 'lo',
      bpi: { 1: 210, 2: 75, 3: 210 },
      bpc: [7, 5, 5],
      leadingZeros: { tracks13: 61, track2: 22 },
    });
    expect(simulator.coercivity).toBe('lo');
    expect(simulator.leadingZeros).toEqual([61, 22]);
    expect(simulator.commands).toEqual([0x65, 0x76, 0x79, 0x62, 0x62, 0x62, 0x6f, 0x7a]);
  });

  it('reads a card after a swipe (sentinels stripped) and identifies the meter from track 2', async () => {
    const { encoder, simulator } = encoderOverMock({ card: METER_CARD });
    const phases: SwipePhase[] = [];
    const read = encoder.readTracks({ onPhase: (p) => void phases.push(p) });
    await swipeWhenArmed(simulator);
    expect(await read).toEqual(METER_CARD);
    const meter = encoder.readMeterCard();
    await swipeWhenArmed(simulator);
    expect(await meter).toBe('04040404040');
    expect(phases).toEqual(['swipe-to-read']);
  });

  it('writes tokens, reads them back on a second swipe and compares before it counts', async () => {
    const { encoder, simulator } = encoderOverMock({ card: METER_CARD });
    const phases: SwipePhase[] = [];
    const write = encoder.writeTracks(TOKENS, { onPhase: (p) => void phases.push(p) });
    await swipeWhenArmed(simulator);
    await swipeWhenArmed(simulator);
    const readBack = await write;
    expect(readBack[3]).toBe(TOKENS[3]);
    expect(readBack[2]).toBe(METER_CARD[2]);
    expect(phases).toEqual(['swipe-to-write', 'swipe-to-verify']);
  });

  it.each([
    { status: 0x31, label: '0x31 read/write error' },
    { status: 0x39, label: '0x39 invalid swipe in write mode' },
  ] as const)(
    'a failed write swipe ($label) is CARD_SWIPE_ERROR and nothing is verified',
    async ({ status }) => {
      const { encoder, simulator } = encoderOverMock({ card: METER_CARD });
      simulator.failNextSwipe(status);
      const write = encoder.writeTracks(TOKENS);
      await swipeWhenArmed(simulator);
      const error = await rejection(write, 'CARD_SWIPE_ERROR');
      expect(error.userMessage).toMatch(/not written/);
      expect(simulator.card).toEqual(METER_CARD);
      expect(simulator.commands.filter((c) => c === 0x72)).toEqual([]);
    },
  );

  it('a failed read swipe is CARD_SWIPE_ERROR asking to swipe again', async () => {
    const { encoder, simulator } = encoderOverMock({ card: METER_CARD });
    simulator.failNextSwipe(0x31);
    const read = encoder.readMeterCard();
    await swipeWhenArmed(simulator);
    const error = await rejection(read, 'CARD_SWIPE_ERROR');
    expect(error.userMessage).toMatch(/could not be read/);
  });

  it('a read-back that differs is CARD_WRITE_VERIFY_FAILED (the write does not count)', async () => {
    const { encoder, simulator } = encoderOverMock({ card: {}, autoSwipe: true });
    simulator.corruptNextWrite();
    await rejection(encoder.writeTracks(TOKENS), 'CARD_WRITE_VERIFY_FAILED');
  });

  it('assembles replies split into single bytes and skips garbage before them', async () => {
    const { encoder, simulator } = encoderOverMock({ card: METER_CARD, chunkSize: 1, autoSwipe: true });
    simulator.injectGarbage([0x00, 0xff, 0x41, 0x0d]);
    expect(await encoder.probe()).toEqual({ firmware: 'REV01.00' });
    simulator.injectGarbage([0x13, 0x11]);
    expect(await encoder.readTracks()).toEqual(METER_CARD);
  });

  it('a swipe nobody makes times out, and the encoder is reset so a later swipe writes nothing', async () => {
    const { encoder, simulator } = encoderOverMock({ card: METER_CARD }, { swipeTimeoutMs: 60 });
    await rejection(encoder.writeTracks(TOKENS), 'DEVICE_TIMEOUT');
    await settle();
    expect(simulator.commands.at(-1)).toBe(0x61);
    expect(simulator.waitingFor).toBeNull();
    expect(simulator.swipe()).toBe(false);
    expect(simulator.card).toEqual(METER_CARD);
  });

  it('a configuration command with no reply times out (mute device)', async () => {
    const { encoder, simulator } = encoderOverMock({}, { commandTimeoutMs: 50 });
    simulator.mute = true;
    await rejection(encoder.probe(), 'DEVICE_TIMEOUT');
  });

  it('cancelling the swipe wait (AbortSignal) resets the encoder and reports DEVICE_CANCELLED', async () => {
    const { encoder, simulator } = encoderOverMock({ card: METER_CARD });
    const controller = new AbortController();
    const write = encoder.writeTracks(TOKENS, { signal: controller.signal });
    for (let i = 0; i < 200 && simulator.waitingFor === null; i++) await settle(1);
    controller.abort();
    await rejection(write, 'DEVICE_CANCELLED');
    await settle();
    expect(simulator.waitingFor).toBeNull();
    expect(simulator.card).toEqual(METER_CARD);
    // The device is free for the next command.
    expect(await encoder.probe()).toEqual({ firmware: 'REV01.00' });
  });

  it('an unplug during the swipe wait is DEVICE_DISCONNECTED', async () => {
    const { encoder, simulator, device } = encoderOverMock({ card: METER_CARD });
    const read = encoder.readTracks();
    for (let i = 0; i < 200 && simulator.waitingFor === null; i++) await settle(1);
    device.unplug();
    const error = await rejection(read, 'DEVICE_DISCONNECTED');
    expect(error.userMessage).toMatch(/disconnected/);
  });

  it('erases the selected tracks after a swipe and sets the LED without waiting for a reply', async () => {
    const { encoder, simulator } = encoderOverMock({ card: { ...METER_CARD, ...TOKENS }, autoSwipe: true });
    await encoder.erase([3]);
    expect(simulator.card).toEqual(METER_CARD);
    await encoder.led('green');
    await settle();
    expect(simulator.led).toBe('green');
  });

  it('one command in flight: a probe queued behind a swipe wait runs after it', async () => {
    const { encoder, simulator } = encoderOverMock({ card: METER_CARD });
    const order: string[] = [];
    const read = encoder.readTracks().then(() => order.push('read'));
    const probe = encoder.probe().then(() => order.push('probe'));
    await swipeWhenArmed(simulator);
    await Promise.all([read, probe]);
    expect(order).toEqual(['read', 'probe']);
  });
});

describe('MSR605X over HID (64-byte reports)', () => {
  it('runs the same protocol through the HID framing, including a multi-report read reply', async () => {
    const hid = new SimulatedHidDevice();
    const simulator = new MsrSimulator(hid.device, { model: 'msr605x', autoSwipe: true });
    const long: TrackSet = {
      1: 'A'.repeat(76),
      2: '1'.repeat(37),
      3: '2'.repeat(104),
    };
    simulator.insertCard(long);
    const transport = new HidTransport({
      path: 'hid:0801:0003',
      identity: { vendorId: '0801', productId: '0003' },
      openDevice: async () => hid,
    });
    const encoder = new MsrEncoder(transport, { commandTimeoutMs: 500, swipeTimeoutMs: 2000 });
    expect(await encoder.probe()).toEqual({ firmware: 'REV01.00' });
    expect(await encoder.readTracks()).toEqual(long);
    expect(hid.reports[0]).toEqual(
      Uint8Array.from([0x00, 0xc2, 0x1b, 0x65, ...new Array<number>(61).fill(0)]),
    );
    await encoder.writeTracks({ 3: '04040404040=0007=12345678901234567890' });
    expect(simulator.card?.[3]).toBe('04040404040=0007=12345678901234567890');
  });

  it('an HID read error (unplug) is DEVICE_DISCONNECTED', async () => {
    const hid = new SimulatedHidDevice();
    const simulator = new MsrSimulator(hid.device, { model: 'msr605x' });
    simulator.insertCard(METER_CARD);
    const transport = new HidTransport({ path: 'hid', openDevice: async () => hid });
    const encoder = new MsrEncoder(transport, { swipeTimeoutMs: 2000 });
    const read = encoder.readTracks();
    for (let i = 0; i < 200 && simulator.waitingFor === null; i++) await settle(1);
    hid.unplug();
    await rejection(read, 'DEVICE_DISCONNECTED');
  });
});

describe('MSR over the in-memory link', () => {
  it('a pulled cable fails the wait and the next command cannot open the port', async () => {
    const link = createMemoryLink({ path: '/dev/ttyUSB0' });
    const simulator = new MsrSimulator(link.device, { card: METER_CARD });
    const encoder = new MsrEncoder(link.host, { swipeTimeoutMs: 2000 });
    const read = encoder.readTracks();
    for (let i = 0; i < 200 && simulator.waitingFor === null; i++) await settle(1);
    link.unplug();
    await rejection(read, 'DEVICE_DISCONNECTED');
    await rejection(encoder.probe(), 'DEVICE_NOT_FOUND');
  });
});
