import { type WallClock, wallClockInZone } from '../../src-shared/sts/tid.ts';
import { EngineError } from './errors.ts';

/** The utility's wall clock ⇄ UTC instants (ledger times are UTC; operators think in local dates). */

const wallMs = (w: WallClock) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second ?? 0);

/** The UTC instant at which the utility's clock shows `wall` (the earlier one if it shows it twice). */
export function instantOfWallClock(wall: WallClock, timeZone: string): Date {
  const target = wallMs({ ...wall, second: 0 });
  let guess = target;
  // Converges in one or two steps: each step corrects by the zone offset seen at the guess.
  for (let step = 0; step < 3; step++) {
    const offset = wallMs(wallClockInZone(new Date(guess), timeZone)) - target;
    if (offset === 0) break;
    guess -= offset;
  }
  return new Date(guess);
}

/** Reads 'YYYY-MM-DD' as a real calendar date, or refuses it with a clear error naming the field. */
export function parseLocalDate(text: string, what: string): WallClock {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const [year, month, day] = (match?.slice(1) ?? []).map(Number);
  const check = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 0));
  if (!match || check.getUTCMonth() + 1 !== month || check.getUTCDate() !== day || year! < 1970) {
    throw new EngineError(
      'VEND_INVALID_REQUEST',
      `The ${what} is not a real date (write it as YYYY-MM-DD).`,
      `${what} ${JSON.stringify(text)}`,
    );
  }
  return { year: year!, month: month!, day: day!, hour: 0, minute: 0 };
}

/** The first instant of a local date and of the day after it: [start, end) in UTC. */
export function localDayBounds(date: WallClock, timeZone: string): { start: Date; end: Date } {
  const next = new Date(Date.UTC(date.year, date.month - 1, date.day + 1));
  return {
    start: instantOfWallClock(date, timeZone),
    end: instantOfWallClock(
      {
        year: next.getUTCFullYear(),
        month: next.getUTCMonth() + 1,
        day: next.getUTCDate(),
        hour: 0,
        minute: 0,
      },
      timeZone,
    ),
  };
}
