import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NAMESPACES } from '../../../src-renderer/i18n/namespaces.ts';
import { LANGUAGES } from '../../../src-shared/bridge/contract.ts';

const LOCALES = new URL('../../../src-renderer/i18n/locales/', import.meta.url).pathname;
/** i18next's locale per UI language for plural rules (it asks Intl.PluralRules with the language code). */
const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;

type Tree = { [key: string]: string | Tree };

function load(language: string, namespace: string): unknown {
  return JSON.parse(readFileSync(join(LOCALES, language, `${namespace}.json`), 'utf8'));
}

/** Every leaf as 'a.b.c' → value; a non-string leaf is reported as such. */
function flatten(tree: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) {
    out.set(prefix || '(root)', tree);
    return out;
  }
  for (const [key, value] of Object.entries(tree as Tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [k, v] of flatten(value, path)) out.set(k, v);
    } else out.set(path, value);
  }
  return out;
}

/** Keys with plural suffixes folded to their base key, as i18next resolves them. */
const baseKeys = (keys: Iterable<string>) => new Set([...keys].map((key) => key.replace(PLURAL_SUFFIX, '')));
const placeholders = (text: string) =>
  [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1] ?? '').sort();

describe('renderer translations', () => {
  it('has a folder per UI language and nothing else', () => {
    expect(readdirSync(LOCALES).sort()).toEqual([...LANGUAGES].sort());
  });

  for (const language of LANGUAGES) {
    for (const namespace of NAMESPACES) {
      describe(`${language}/${namespace}.json`, () => {
        it('exists and is a JSON object', () => {
          const file = join(LOCALES, language, `${namespace}.json`);
          expect(existsSync(file), `${file} is missing`).toBe(true);
          const content = load(language, namespace);
          expect(typeof content === 'object' && content !== null && !Array.isArray(content)).toBe(true);
        });

        it('has only non-empty strings', () => {
          const bad = [...flatten(load(language, namespace))].filter(
            ([, value]) => typeof value !== 'string' || value.trim() === '',
          );
          expect(bad.map(([key]) => key)).toEqual([]);
        });

        it('has the same keys as English (plural forms folded)', () => {
          const english = baseKeys(flatten(load('en', namespace)).keys());
          const here = baseKeys(flatten(load(language, namespace)).keys());
          expect([...here].filter((key) => !english.has(key)).sort(), 'keys English does not have').toEqual(
            [],
          );
          expect([...english].filter((key) => !here.has(key)).sort(), 'keys missing here').toEqual([]);
        });

        it("has every plural form the language's rules need", () => {
          const categories = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
          const keys = [...flatten(load(language, namespace)).keys()];
          const plurals = new Set(
            keys.filter((key) => PLURAL_SUFFIX.test(key)).map((key) => key.replace(PLURAL_SUFFIX, '')),
          );
          const missing = [...plurals].flatMap((base) =>
            categories.filter((category) => !keys.includes(`${base}_${category}`)).map((c) => `${base}_${c}`),
          );
          expect(missing).toEqual([]);
        });

        it('uses the same {{placeholders}} as English', () => {
          const english = flatten(load('en', namespace));
          const here = flatten(load(language, namespace));
          const byBase = (map: Map<string, unknown>) => {
            const out = new Map<string, Set<string>>();
            for (const [key, value] of map) {
              const base = key.replace(PLURAL_SUFFIX, '');
              const set = out.get(base) ?? new Set<string>();
              for (const name of placeholders(String(value))) set.add(name);
              out.set(base, set);
            }
            return out;
          };
          const en = byBase(english);
          const mismatched = [...byBase(here)]
            .filter(([base, names]) => {
              const expected = en.get(base);
              return expected !== undefined && [...names].sort().join() !== [...expected].sort().join();
            })
            .map(([base]) => base);
          expect(mismatched).toEqual([]);
        });
      });
    }
  }

  it('is not English copied: most French and Portuguese strings differ from English', () => {
    for (const language of LANGUAGES.filter((l) => l !== 'en')) {
      let same = 0;
      let total = 0;
      for (const namespace of NAMESPACES) {
        const english = flatten(load('en', namespace));
        for (const [key, value] of flatten(load(language, namespace))) {
          const en = english.get(key);
          if (typeof en !== 'string' || !/[a-z]{4,}/i.test(en)) continue;
          total++;
          if (en === value) same++;
        }
      }
      // Identical strings are fine for units, codes and names, never for most of the UI.
      expect(same, `${language}: ${same} of ${total} strings identical to English`).toBeLessThan(
        total * 0.1 + 1,
      );
    }
  });
});
