import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Proves the layering rules fire: the same checks `npm test` runs must reject a violating file.
const repoRoot = new URL('../../', import.meta.url).pathname;
const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);
const probes: string[] = [];
afterAll(() => {
  for (const dir of probes) rmSync(dir, { recursive: true, force: true });
});

function lintProbe(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'openvend-layering-'));
  probes.push(dir);
  copyFileSync(join(repoRoot, 'biome.json'), join(dir, 'biome.json'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  // The copied config points its schema at node_modules; Biome only warns if it cannot read it.
  const result = spawnSync(
    bin('biome'),
    ['lint', '--vcs-enabled=false', '--max-diagnostics=50', ...Object.keys(files)],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('lint layering rules (biome.json)', () => {
  it('rejects Node built-ins, Electron, DOM globals and runtime-layer imports in src-shared', () => {
    const { status, output } = lintProbe({
      'src-shared/probe.ts': [
        "import { readFileSync } from 'node:fs';",
        "import { app } from 'electron';",
        "import { engine } from '../src-main/engine.ts';",
        'export const leaks = [readFileSync, app, engine, window.location, Buffer.alloc(1)];',
        '',
      ].join('\n'),
    });
    expect(status).not.toBe(0);
    expect(output).toContain('noNodejsModules');
    expect(output).toContain('src-shared is pure TypeScript: no Electron.');
    expect(output).toContain('src-shared may not import a runtime layer');
    expect(output).toContain('Do not use the global variable window');
    expect(output).toContain('Do not use the global variable Buffer');
  });

  it('rejects src-main imports in src-renderer', () => {
    const { status, output } = lintProbe({
      'src-renderer/probe.ts': "import { engine } from '../src-main/engine.ts';\nexport const e = engine;\n",
    });
    expect(status).not.toBe(0);
    expect(output).toContain('src-renderer may not import src-main');
  });

  it('accepts pure code in src-shared and src-main imports in src-main', () => {
    const { status, output } = lintProbe({
      'src-shared/ok.ts': 'export const double = (n: number): number => n * 2;\n',
      'src-main/ok.ts':
        "import { readFileSync } from 'node:fs';\nimport { double } from '../src-shared/ok.ts';\nexport const f = [readFileSync, double];\n",
    });
    expect(output).not.toContain('noRestrictedImports');
    expect(status).toBe(0);
  });
});

describe('compiler layering (tsconfig.shared.json)', () => {
  function typecheckSharedProbe(source: string) {
    // Inside the repository so that node_modules (and @types/node) are reachable, as for real code.
    const dir = mkdtempSync(join(repoRoot, '.layering-probe-'));
    probes.push(dir);
    writeFileSync(join(dir, 'probe.ts'), source);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../tsconfig.shared.json', include: ['probe.ts'] }),
    );
    const result = spawnSync(bin('tsc'), ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    return { status: result.status, output: result.stdout + result.stderr };
  }

  it('has no Node types: importing node:fs does not compile', () => {
    const { status, output } = typecheckSharedProbe(
      "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
    );
    expect(status).not.toBe(0);
    expect(output).toMatch(/TS2307|TS2591/);
  });

  it('has no DOM library: document does not compile', () => {
    const { status, output } = typecheckSharedProbe('export const title = document.title;\n');
    expect(status).not.toBe(0);
    expect(output).toContain("Cannot find name 'document'");
  });

  it('compiles plain TypeScript', () => {
    const { status } = typecheckSharedProbe('export const answer: number = 42;\n');
    expect(status).toBe(0);
  });
});
