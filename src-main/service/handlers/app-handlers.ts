import { LANGUAGES, type Language } from '../../../src-shared/bridge/contract.ts';
import { permissionsOf } from '../../../src-shared/vending/roles.ts';
import { APP_VERSION } from '../../app-version.ts';
import { authenticate } from '../../engine/operators.ts';
import { readSyncStatus } from '../../sync/sync-state.ts';
import type { HandlerGroup } from '../handler-types.ts';

/** Quick amounts on the vend screen, in major units (scaled by the currency's decimals). */
const QUICK_AMOUNTS_MAJOR = [20, 50, 100, 200, 500];

const isLanguage = (value: unknown): value is Language => LANGUAGES.includes(value as Language);

export const appHandlers: HandlerGroup<
  'app.info' | 'auth.login' | 'auth.logout' | 'auth.setLanguage' | 'status.get'
> = {
  'app.info': (_args, { engine, sqlite, options }) => {
    const outlet = engine.outlet();
    const { receiptColumns } = sqlite
      .prepare('SELECT receipt_columns AS receiptColumns FROM outlet WHERE id = 1')
      .get() as {
      receiptColumns: 32 | 42 | 48;
    };
    const u = engine.utility;
    const scale = 10 ** u.currencyMinorUnits;
    return {
      version: APP_VERSION,
      outlet: {
        code: outlet.code,
        name: outlet.name,
        address: outlet.address,
        terminalId: outlet.terminalId,
      },
      utility: {
        name: u.name,
        currencyCode: u.currencyCode,
        currencyMinorUnits: u.currencyMinorUnits,
        timeZone: u.timeZone,
      },
      receiptColumns,
      languages: [...LANGUAGES],
      quickAmountsMinor: QUICK_AMOUNTS_MAJOR.map((major) => major * scale),
      demo: options.demo,
      host: options.host,
    };
  },

  'auth.login': ({ username, password }, { sqlite, sessions, now }) => {
    const operator = authenticate(sqlite, username, password, now);
    const { language } = sqlite.prepare('SELECT language FROM operator WHERE id = ?').get(operator.id) as {
      language: string | null;
    };
    const preferred = isLanguage(language) ? language : null;
    return {
      session: sessions.open(operator, preferred, now),
      operator: { ...operator, language: preferred },
      permissions: permissionsOf(operator.role),
    };
  },

  'auth.logout': (_args, { sessions, sessionToken }) => {
    sessions.close(sessionToken);
    return { ok: true };
  },

  'auth.setLanguage': ({ language }, { sqlite, session, sessions, sessionToken }) => {
    sqlite.prepare('UPDATE operator SET language = ? WHERE id = ?').run(language, session.id);
    sessions.setLanguage(sessionToken, language);
    return { ok: true };
  },

  'status.get': (_args, { engine, sqlite, session }) => {
    const { language } = sqlite.prepare('SELECT language FROM operator WHERE id = ?').get(session.id) as {
      language: string | null;
    };
    const shift = sqlite
      .prepare(
        'SELECT id AS shiftId, opened_at AS openedAt FROM shift WHERE operator_id = ? AND closed_at IS NULL',
      )
      .get(session.id) as { shiftId: number; openedAt: string } | undefined;
    const outlet = engine.outlet();
    const sync = readSyncStatus(sqlite);
    return {
      operator: { ...session, language: isLanguage(language) ? language : null },
      shift: shift ?? null,
      floatBalanceMinor: outlet.floatBalanceMinor,
      lowFloatThresholdMinor: outlet.lowFloatThresholdMinor,
      lowFloat: outlet.floatBalanceMinor < outlet.lowFloatThresholdMinor,
      // Written by the sync client (engine thread) in the ledger; 'not-configured' until the outlet is enrolled.
      sync: {
        state: sync.state,
        pendingEvents: sync.pendingEvents,
        pendingSales: sync.pendingSales,
        oldestPendingAt: sync.oldestPendingAt,
        lastSuccessAt: sync.lastSuccessAt,
        quarantinedEvents: sync.quarantinedEvents,
        centralFloat: sync.centralFloat,
      },
    };
  },
};
