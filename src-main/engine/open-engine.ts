import type Database from 'better-sqlite3';
import { type Ledger, openLedger } from '../ledger/database.ts';
import { type KekSource, kekFromEnvironmentOrFile } from '../security/key-encryption-key.ts';
import type { AuthorityStore, VendingAuthority } from '../security/security-module.ts';
import { SoftwareSecurityModule } from '../security/software-security-module.ts';
import { loadVendingKeys } from './master-data.ts';
import { type Clock, VendEngine } from './vend-engine.ts';

/** The software module's vending authority lives in the outlet row, updated inside the sale's transaction. */
export function ledgerAuthorityStore(sqlite: Database.Database): AuthorityStore {
  const read = sqlite.prepare(
    'SELECT authority_credit_limit_minor AS creditLimitMinor, authority_used_minor AS usedMinor, authority_valid_until AS validUntil FROM outlet WHERE id = 1',
  );
  const consume = sqlite.prepare(
    'UPDATE outlet SET authority_used_minor = authority_used_minor + ? WHERE id = 1',
  );
  return {
    read: () => read.get() as VendingAuthority,
    consume: (minor) => {
      consume.run(minor);
    },
  };
}

export interface OpenEngine {
  ledger: Ledger;
  engine: VendEngine;
  close(): void;
}

/** Opens the ledger, unseals the vending keys into the software security module and starts the engine. */
export function openEngine(dataDir: string, options: { kek?: KekSource; clock?: Clock } = {}): OpenEngine {
  const ledger = openLedger(dataDir);
  try {
    const kek = (options.kek ?? kekFromEnvironmentOrFile(dataDir)).load();
    const security = new SoftwareSecurityModule(
      loadVendingKeys(ledger.sqlite, kek),
      ledgerAuthorityStore(ledger.sqlite),
      () => loadVendingKeys(ledger.sqlite, kek),
    );
    const engine = new VendEngine(ledger, security, options.clock);
    return { ledger, engine, close: () => ledger.close() };
  } catch (error) {
    ledger.close();
    throw error;
  }
}
