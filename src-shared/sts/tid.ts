import { StsError } from './errors.ts';

/**
 * Token identifier (TID): whole minutes from 00:00 on 1 January of the base date to the issue time,
 * in the utility's local wall-clock time (the time-zone policy lives with the utility, not here).
 */

export const BASE_DATES = [1993, 2014, 2035] as const;
export type BaseDate = (typeof BASE_DATES)[number];
export const MAX_TID = 0xffffff;
const MINUTES_PER_DAY = 1440;
const MS_PER_MINUTE = 60_000;

/** A local wall-clock time; seconds are accepted and dropped (TIDs count whole minutes). */
export interface WallClock {
  year: number;
  month: number; // 1–12
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

export function requireBaseDate(value: unknown): BaseDate {
  if (!BASE_DATES.includes(value as BaseDate)) {
    throw new StsError(
      'STS_INVALID_BASE_DATE',
      'The meter base date must be 1993, 2014 or 2035.',
      `base date ${JSON.stringify(value)} is not one of ${BASE_DATES.join(', ')}`,
    );
  }
  return value as BaseDate;
}

const wallClockMinutes = (wall: WallClock): number =>
  Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute) / MS_PER_MINUTE;

function requireWallClock(wall: WallClock): void {
  const fields = [wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second ?? 0];
  const check = new Date(Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute));
  const valid =
    fields.every(Number.isInteger) &&
    wall.month >= 1 &&
    wall.month <= 12 &&
    wall.hour >= 0 &&
    wall.hour < 24 &&
    wall.minute >= 0 &&
    wall.minute < 60 &&
    (wall.second ?? 0) >= 0 &&
    (wall.second ?? 0) < 60 &&
    check.getUTCDate() === wall.day &&
    check.getUTCMonth() === wall.month - 1 &&
    // Date.UTC reads years 0–99 as 1900–1999: without this, "0099-06-01" would count as 1999.
    check.getUTCFullYear() === wall.year;
  if (!valid) {
    throw new StsError(
      'STS_INVALID_TIME',
      'The issue time is not a valid date and time.',
      `invalid wall clock ${JSON.stringify(wall)}`,
    );
  }
}

/** Parses "YYYY-MM-DDTHH:MM[:SS]" (a naive local date-time; a trailing zone designator is refused). */
export function parseWallClock(text: string): WallClock {
  const match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(text.trim());
  if (!match) {
    throw new StsError(
      'STS_INVALID_TIME',
      'The issue time must look like 2024-05-31T14:05.',
      `cannot read local date-time ${JSON.stringify(text)} (expected YYYY-MM-DDTHH:MM[:SS], no zone)`,
    );
  }
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0));
  const wall = { year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second: second! };
  requireWallClock(wall);
  return wall;
}

export function formatWallClock(wall: WallClock): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}T${pad(wall.hour)}:${pad(wall.minute)}`;
}

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of an instant in an IANA time zone (uses Intl, available in browsers and Node). */
export function wallClockInZone(instant: Date, timeZone: string): WallClock {
  let formatter = zoneFormatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new StsError(
        'STS_INVALID_TIME',
        'The time zone is not known.',
        `unknown IANA time zone ${JSON.stringify(timeZone)}`,
      );
    }
    zoneFormatters.set(timeZone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** Raw TID: minutes since the base date, seconds dropped. Refuses times before the base date or past roll-over. */
export function tidFromWallClock(wall: WallClock, baseDate: BaseDate): number {
  requireWallClock(wall);
  requireBaseDate(baseDate);
  const tid = wallClockMinutes(wall) - Date.UTC(baseDate, 0, 1) / MS_PER_MINUTE;
  if (tid < 0) {
    throw new StsError(
      'STS_TID_BEFORE_BASE_DATE',
      'The issue time is before the meter base date.',
      `issue time ${formatWallClock(wall)} precedes base date ${baseDate}-01-01`,
    );
  }
  return requireTidInRange(tid, baseDate);
}

export function requireTidInRange(tid: number, baseDate: BaseDate): number {
  if (!Number.isInteger(tid) || tid < 0) {
    throw new StsError(
      'STS_INVALID_FIELD',
      'The token identifier is invalid.',
      `TID ${tid} is not a non-negative integer`,
    );
  }
  if (tid > MAX_TID) {
    const last = formatWallClock(tidToWallClock(MAX_TID, baseDate));
    throw new StsError(
      'STS_TID_ROLLOVER',
      `This meter's base date ${baseDate} ran out on ${last}; it needs a key change to a newer base date before it can be vended.`,
      `TID ${tid} exceeds 0xFFFFFF for base date ${baseDate} (roll-over at ${last})`,
    );
  }
  return tid;
}

export function tidToWallClock(tid: number, baseDate: BaseDate): WallClock {
  const date = new Date(Date.UTC(baseDate, 0, 1) + tid * MS_PER_MINUTE);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
  };
}

/** The last minute a base date can express (TID 0xFFFFFF), e.g. 2024-11-24T20:15 for 1993. */
export const rolloverWallClock = (baseDate: BaseDate): WallClock => tidToWallClock(MAX_TID, baseDate);

/** TIDs at 00:01 each day are reserved: never issued. */
export const isReservedTid = (tid: number): boolean => tid % MINUTES_PER_DAY === 1;

/**
 * The TID to put in the next token for a meter: the raw TID, moved past the reserved 00:01 minute and
 * past the last TID already issued to this meter (two vends in one minute get consecutive minutes).
 */
export function nextIssuableTid(rawTid: number, baseDate: BaseDate, lastIssuedTid?: number): number {
  let tid = lastIssuedTid !== undefined && rawTid <= lastIssuedTid ? lastIssuedTid + 1 : rawTid;
  if (isReservedTid(tid)) tid++;
  return requireTidInRange(tid, baseDate);
}

/**
 * Vending-side key expiry, using the meter's own rule: a token is refused when (TID >> 16) > KEN.
 * KEN 255 never expires.
 */
export function assertKeyNotExpired(tid: number, ken: number): void {
  const tidHigh = Math.floor(tid / 65536);
  if (tidHigh > ken) {
    throw new StsError(
      'STS_KEY_EXPIRED',
      "This meter's key has expired; a key change is needed before it can be vended.",
      `TID ${tid} (TID>>16 = ${tidHigh}) is past key expiry number KEN ${ken}`,
    );
  }
}
