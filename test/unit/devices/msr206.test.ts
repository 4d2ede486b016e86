import { describe, expect, it } from 'vitest';
import { ProtocolError, SwipeError } from '../../../src-shared/devices/device-errors.ts';
import {
  assertMsrOk,
  MSR_STATUS,
  type MsrReply,
  type MsrReplyKind,
  MsrReplyParser,
  msrCommands,
  msrStatusError,
} from '../../../src-shared/devices/msr206.ts';
import { ascii, bytes, expectDeviceError, hex } from './support.ts';

const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((part) => [...part]));

describe('MSR206/605 command builders', () => {
  it('simple commands are ESC + one byte, with the reply they expect', () => {
    const table: [string, ReturnType<(typeof msrCommands)['reset']>, string, MsrReplyKind | null][] = [
      ['reset', msrCommands.reset(), '1b 61', null],
      ['probe', msrCommands.communicationTest(), '1b 65', 'ack'],
      ['firmware', msrCommands.firmware(), '1b 76', 'firmware'],
      ['model', msrCommands.model(), '1b 74', 'model'],
      ['hi-co', msrCommands.setHiCo(), '1b 78', 'status'],
      ['lo-co', msrCommands.setLoCo(), '1b 79', 'status'],
      ['get coercivity', msrCommands.getCoercivity(), '1b 64', 'coercivity'],
      ['check leading zeros', msrCommands.checkLeadingZeros(), '1b 6c', 'leading-zeros'],
      ['read', msrCommands.readIso(), '1b 72', 'iso-read'],
      ['sensor test', msrCommands.sensorTest(), '1b 86', 'status'],
      ['ram test', msrCommands.ramTest(), '1b 87', 'status'],
    ];
    for (const [name, command, expected, reply] of table) {
      expect([name, hex(command.bytes), command.reply]).toEqual([name, expected, reply]);
    }
    expect(msrCommands.readIso().waitsForSwipe).toBe(true);
    expect(msrCommands.communicationTest().waitsForSwipe).toBe(false);
  });

  it('LEDs: 81 off, 82 all, 83 green, 84 yellow, 85 red; no reply', () => {
    expect(
      (['off', 'all', 'green', 'yellow', 'red'] as const).map((led) => hex(msrCommands.led(led).bytes)),
    ).toEqual(['1b 81', '1b 82', '1b 83', '1b 84', '1b 85']);
    expect(msrCommands.led('red').reply).toBeNull();
  });

  it('BPI bytes per the manual (track 2 is D2/4B, track 3 is C1/C0 — not swapped)', () => {
    expect(hex(msrCommands.setBpi(1, 210).bytes)).toBe('1b 62 a1');
    expect(hex(msrCommands.setBpi(1, 75).bytes)).toBe('1b 62 a0');
    expect(hex(msrCommands.setBpi(2, 210).bytes)).toBe('1b 62 d2');
    expect(hex(msrCommands.setBpi(2, 75).bytes)).toBe('1b 62 4b');
    expect(hex(msrCommands.setBpi(3, 210).bytes)).toBe('1b 62 c1');
    expect(hex(msrCommands.setBpi(3, 75).bytes)).toBe('1b 62 c0');
    expectDeviceError(() => msrCommands.setBpi(2, 100 as 75), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => msrCommands.setBpi(4 as 1, 75), 'DEVICE_INVALID_DATA');
  });

  it('BPC, leading zeros and erase masks', () => {
    expect(hex(msrCommands.setBpc(7, 5, 5).bytes)).toBe('1b 6f 07 05 05');
    expect(msrCommands.setBpc(7, 5, 5).reply).toBe('bpc');
    expectDeviceError(() => msrCommands.setBpc(4, 5, 5), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => msrCommands.setBpc(7, 5, 9), 'DEVICE_INVALID_DATA');
    expect(hex(msrCommands.setLeadingZeros(61, 22).bytes)).toBe('1b 7a 3d 16');
    expectDeviceError(() => msrCommands.setLeadingZeros(256, 22), 'DEVICE_INVALID_DATA');
    expect(hex(msrCommands.erase([1]).bytes)).toBe('1b 63 01');
    expect(hex(msrCommands.erase([2]).bytes)).toBe('1b 63 02');
    expect(hex(msrCommands.erase([3]).bytes)).toBe('1b 63 04');
    expect(hex(msrCommands.erase([1, 2, 3]).bytes)).toBe('1b 63 07');
    expect(hex(msrCommands.erase([3, 3, 1]).bytes)).toBe('1b 63 05');
    expectDeviceError(() => msrCommands.erase([]), 'DEVICE_INVALID_DATA');
  });

  it('ISO write: ESC w ESC s ESC 1 t1 ESC 2 t2 ESC 3 t3 ? FS, data only', () => {
    const write = msrCommands.writeIso({ 1: 'AB', 2: '12', 3: '3=4' });
    expect(hex(write.bytes)).toBe('1b 77 1b 73 1b 01 41 42 1b 02 31 32 1b 03 33 3d 34 3f 1c');
    expect(write.reply).toBe('status');
    expect(write.waitsForSwipe).toBe(true);
    expect(hex(msrCommands.writeIso({ 3: '1' }).bytes)).toBe('1b 77 1b 73 1b 01 1b 02 1b 03 31 3f 1c');
    expect(hex(msrCommands.writeIso({ 3: '1' }, { omitUnwrittenMarkers: true }).bytes)).toBe(
      '1b 77 1b 73 1b 03 31 3f 1c',
    );
  });

  it('ISO write refuses bad track data before anything is sent', () => {
    expectDeviceError(() => msrCommands.writeIso({}), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => msrCommands.writeIso({ 2: '12A' }), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => msrCommands.writeIso({ 2: ';123?' }), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => msrCommands.writeIso({ 2: '1'.repeat(38) }), 'DEVICE_INVALID_DATA');
    expectDeviceError(() => msrCommands.writeIso({ 1: 'abc' }), 'DEVICE_INVALID_DATA');
  });
});

/** Feeds a byte stream to a parser in the given chunk sizes, collecting every reply. */
function feed(kinds: MsrReplyKind[], stream: Uint8Array, cuts: number[] = []): MsrReply[] {
  const parser = new MsrReplyParser();
  for (const kind of kinds) parser.expect(kind);
  const replies: MsrReply[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    replies.push(...parser.push(stream.subarray(from, cut)));
    from = cut;
  }
  expect(parser.pendingReplies).toBe(kinds.length - replies.length);
  return replies;
}

const READ_REPLY = concat(
  bytes('1b 73 1b 01'),
  ascii('%B123^DOE?'),
  bytes('1b 02'),
  ascii(';12345=67?'),
  bytes('1b 03'),
  ascii(';0404=0001?'),
  bytes('3f 1c 1b 30'),
);

describe('MSR reply parser', () => {
  it('parses each reply kind', () => {
    expect(feed(['ack'], bytes('1b 79'))).toEqual([{ kind: 'ack' }]);
    expect(feed(['status'], bytes('1b 30'))).toEqual([{ kind: 'status', status: 0x30 }]);
    expect(feed(['coercivity'], bytes('1b 48'))).toEqual([{ kind: 'coercivity', coercivity: 'hi' }]);
    expect(feed(['coercivity'], bytes('1b 6c'))).toEqual([{ kind: 'coercivity', coercivity: 'lo' }]);
    expect(feed(['coercivity'], bytes('1b 68'))).toEqual([{ kind: 'coercivity', coercivity: 'hi' }]);
    expect(feed(['leading-zeros'], bytes('1b 3d 16'))).toEqual([
      { kind: 'leading-zeros', tracks13: 61, track2: 22 },
    ]);
    expect(feed(['bpc'], bytes('1b 30 07 05 05'))).toEqual([{ kind: 'bpc', status: 0x30, bpc: [7, 5, 5] }]);
    expect(feed(['model'], bytes('1b 33 53'))).toEqual([{ kind: 'model', model: '3' }]);
    expect(feed(['firmware'], concat(bytes('1b'), ascii('REVH1.02')))).toEqual([
      { kind: 'firmware', version: 'REVH1.02' },
    ]);
  });

  it('parses an ISO read block, stripping sentinels', () => {
    expect(feed(['iso-read'], READ_REPLY)).toEqual([
      {
        kind: 'iso-read',
        status: 0x30,
        tracks: { 1: 'B123^DOE', 2: '12345=67', 3: '0404=0001' },
        empty: [],
        unreadable: [],
      },
    ]);
  });

  it('ISO read: empty tracks (bare marker or ESC +) and tracks flagged bad (ESC *)', () => {
    const stream = concat(bytes('1b 73 1b 01 1b 2b 1b 02'), ascii(';99?'), bytes('1b 03 1b 2a 3f 1c 1b 30'));
    expect(feed(['iso-read'], stream)).toEqual([
      { kind: 'iso-read', status: 0x30, tracks: { 2: '99' }, empty: [1], unreadable: [3] },
    ]);
    const bare = bytes('1b 73 1b 01 1b 02 1b 03 3f 1c 1b 31');
    expect(feed(['iso-read'], bare)).toEqual([
      { kind: 'iso-read', status: 0x31, tracks: {}, empty: [1, 2, 3], unreadable: [] },
    ]);
    const noSentinel = concat(bytes('1b 73 1b 02'), ascii('1234'), bytes('3f 1c 1b 30'));
    expect(feed(['iso-read'], noSentinel)).toMatchObject([{ tracks: {}, unreadable: [2] }]);
  });

  it('handles a reply split at every byte boundary', () => {
    for (let cut = 1; cut < READ_REPLY.length; cut++) {
      const replies = feed(['iso-read'], READ_REPLY, [cut]);
      expect(replies).toHaveLength(1);
      expect(replies[0]).toMatchObject({ kind: 'iso-read', tracks: { 2: '12345=67' } });
    }
    const oneByOne = feed(
      ['iso-read'],
      READ_REPLY,
      Array.from({ length: READ_REPLY.length - 1 }, (_, i) => i + 1),
    );
    expect(oneByOne).toHaveLength(1);
  });

  it('handles replies merged within one chunk, in order', () => {
    const stream = concat(bytes('1b 79 1b 30'), READ_REPLY, bytes('1b 4c'));
    const replies = feed(['ack', 'status', 'iso-read', 'coercivity'], stream);
    expect(replies.map((reply) => reply.kind)).toEqual(['ack', 'status', 'iso-read', 'coercivity']);
  });

  it('drops garbage before a reply and bytes no command asked for', () => {
    const parser = new MsrReplyParser();
    expect(parser.push(bytes('00 ff 30 79'))).toEqual([]);
    expect(parser.discardedBytes).toBe(4);
    parser.expect('ack');
    expect(parser.push(bytes('41 42'))).toEqual([]);
    expect(parser.push(bytes('00 1b'))).toEqual([]);
    expect(parser.push(bytes('79 55'))).toEqual([{ kind: 'ack' }]);
    expect(parser.discardedBytes).toBe(8);
    expect(parser.pendingReplies).toBe(0);
  });

  it('a failure status arrives in place of any reply', () => {
    expect(feed(['ack'], bytes('1b 41'))).toEqual([{ kind: 'status', status: 0x41 }]);
    expect(feed(['coercivity'], bytes('1b 41'))).toEqual([{ kind: 'status', status: 0x41 }]);
    expect(feed(['bpc'], bytes('1b 41'))).toEqual([{ kind: 'status', status: 0x41 }]);
    expect(feed(['model'], bytes('1b 41'))).toEqual([{ kind: 'status', status: 0x41 }]);
    expect(feed(['firmware'], bytes('1b 34'))).toEqual([{ kind: 'status', status: 0x34 }]);
    expect(feed(['iso-read'], bytes('1b 31'))).toEqual([{ kind: 'status', status: 0x31 }]);
  });

  it('malformed replies become a ProtocolError value and the stream resynchronises', () => {
    const [bad, next] = feed(['model', 'ack'], bytes('1b 33 00 1b 79'));
    expect(bad).toMatchObject({ kind: 'malformed' });
    expect(bad?.kind === 'malformed' && bad.error).toBeInstanceOf(ProtocolError);
    expect(next).toEqual({ kind: 'ack' });
    const [fw] = feed(['firmware'], concat(bytes('1b'), ascii('RXXH1.02')));
    expect(fw).toMatchObject({ kind: 'malformed' });
    const [block] = feed(['iso-read'], bytes('1b 73 1b 02 31 1c 00 30'));
    expect(block).toMatchObject({ kind: 'malformed' });
    const [noEnd] = feed(['iso-read'], bytes('1b 73 1b 02 31 1c 1b 30'));
    expect(noEnd).toMatchObject({ kind: 'malformed' });
    const [dup] = feed(['iso-read'], bytes('1b 73 1b 02 1b 02 3f 1c 1b 30'));
    expect(dup).toMatchObject({ kind: 'malformed' });
  });

  it('a block that never ends is refused instead of buffering forever', () => {
    const parser = new MsrReplyParser();
    parser.expect('iso-read');
    expect(parser.push(bytes('1b 73'))).toEqual([]);
    const replies = parser.push(new Uint8Array(600).fill(0x31));
    expect(replies).toHaveLength(1);
    expect(replies[0]?.kind).toBe('malformed');
  });

  it('reset forgets buffered bytes and expectations', () => {
    const parser = new MsrReplyParser();
    parser.expect('iso-read');
    parser.push(bytes('1b 73 1b 01'));
    parser.reset();
    expect(parser.pendingReplies).toBe(0);
    parser.expect('ack');
    expect(parser.push(bytes('1b 79'))).toEqual([{ kind: 'ack' }]);
  });
});

describe('MSR status → typed errors', () => {
  it('maps every documented status byte', () => {
    expect(msrStatusError(MSR_STATUS.ok, 'write')).toBeNull();
    const readError = msrStatusError(0x31, 'read');
    expect(readError).toBeInstanceOf(SwipeError);
    expect(readError?.code).toBe('CARD_SWIPE_ERROR');
    expect((readError as SwipeError).writing).toBe(false);
    expect((msrStatusError(0x31, 'write') as SwipeError).writing).toBe(true);
    const swipe = msrStatusError(0x39, 'write') as SwipeError;
    expect([swipe.code, swipe.writing]).toEqual(['CARD_SWIPE_ERROR', true]);
    expect(swipe.userMessage).toMatch(/not written.*Swipe the card again/);
    for (const status of [0x32, 0x34, 0x41, 0x33, 0x7f]) {
      const error = msrStatusError(status, 'command');
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error?.detail).toContain(status === 0x41 ? 'ESC A' : `0x${status.toString(16)}`);
    }
    expect(msrStatusError(0x34, 'command')?.userMessage).toContain('does not support');
  });

  it('assertMsrOk passes good replies and throws the mapped error', () => {
    expect(assertMsrOk({ kind: 'status', status: 0x30 }, 'write')).toEqual({ kind: 'status', status: 0x30 });
    expect(assertMsrOk({ kind: 'ack' }, 'command')).toEqual({ kind: 'ack' });
    expectDeviceError(() => assertMsrOk({ kind: 'status', status: 0x39 }, 'write'), 'CARD_SWIPE_ERROR');
    const [read] = feed(['iso-read'], bytes('1b 73 1b 01 1b 02 1b 03 3f 1c 1b 31'));
    expectDeviceError(() => assertMsrOk(read!, 'read'), 'CARD_SWIPE_ERROR');
    const [bad] = feed(['ack'], bytes('1b 32'));
    expectDeviceError(() => assertMsrOk(bad!, 'command'), 'DEVICE_PROTOCOL_ERROR');
    const [malformed] = feed(['model'], bytes('1b 33 00'));
    expectDeviceError(() => assertMsrOk(malformed!, 'command'), 'DEVICE_PROTOCOL_ERROR');
  });
});
