/**
 * `mlops --help` must not load command modules or heavy dependencies (and, since it is answered
 * from the command table, not even commander: see src/cli/root-help.ts).
 *
 * Method: build the sources into a temp folder (so the test does not depend on, or write, the
 * shared dist/), then run the real bin in a fresh `node` with `--import` of a tiny script that
 * registers a module-resolution hook (node:module `register`). The hook appends every URL the ESM
 * loader resolves to a log file, so the log lists each module the process loaded through `import`.
 * A control run (`config validate`, which needs zod and yaml) proves the hook sees what it should.
 * (Packages required from CommonJS inside another package are not seen, but every heavy package
 * is first reached by an `import` from our ESM code, which is.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mlops-startup-'));
  // tsc exits non-zero on a type error elsewhere but still emits; what matters is that main.js exists.
  spawnSync(
    process.execPath,
    [
      path.join(repo, 'node_modules/typescript/bin/tsc'),
      '-p',
      path.join(repo, 'tsconfig.build.json'),
      '--outDir',
      path.join(dir, 'dist'),
      '--sourceMap',
      'false',
    ],
    {
      stdio: 'ignore',
    },
  );
  if (!existsSync(path.join(dir, 'dist/cli/main.js'))) throw new Error('build into the temp folder failed');
  cpSync(path.join(repo, 'bin'), path.join(dir, 'bin'), { recursive: true });
  cpSync(path.join(repo, 'package.json'), path.join(dir, 'package.json'));
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  mkdirSync(path.join(dir, 'hook'));
  writeFileSync(
    path.join(dir, 'hook/register.mjs'),
    "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url, { data: { log: process.env.LOAD_LOG } });\n",
  );
  writeFileSync(
    path.join(dir, 'hook/hooks.mjs'),
    [
      "import { appendFileSync } from 'node:fs';",
      'let log;',
      'export function initialize(data) { log = data.log; }',
      'export async function resolve(specifier, context, next) {',
      '  const r = await next(specifier, context);',
      "  appendFileSync(log, r.url + '\\n');",
      '  return r;',
      '}',
    ].join('\n'),
  );
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the bin with argv and returns the module URLs it resolved. */
function loaded(argv: string[], cwd = dir, extraEnv: Record<string, string> = {}): string[] {
  const log = path.join(dir, `load-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  execFileSync(process.execPath, ['--import', path.join(dir, 'hook/register.mjs'), path.join(dir, 'bin/mlops.js'), ...argv], {
    cwd,
    env: { PATH: process.env.PATH, LOAD_LOG: log, ...(extraEnv.FORCE_COLOR ? extraEnv : { NO_COLOR: '1' }) },
    stdio: 'ignore',
  });
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const HEAVY = ['zod', 'yaml', 'execa', 'ora', 'axios', '@aws-sdk', '@smithy', 'chalk'];
const pkg = (urls: string[]) => new Set(urls.flatMap((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []));

describe('start-up', () => {
  it('`mlops --help` loads only the CLI core: no package (not even commander), no command module', () => {
    const urls = loaded(['--help']);
    const packages = pkg(urls);
    expect(packages).toEqual(new Set());
    expect(urls.some((u) => u.includes('/dist/cli/main.js'))).toBe(true);
    expect(urls.filter((u) => u.includes('/dist/commands/') || u.includes('/dist/config/') || u.includes('/dist/adapters/'))).toEqual([]);
  });

  it('`mlops config --help` loads commander, and still no command module or heavy dependency', () => {
    const urls = loaded(['config', '--help']);
    expect(pkg(urls)).toEqual(new Set(['commander']));
    expect(urls.filter((u) => u.includes('/dist/commands/') || u.includes('/dist/config/') || u.includes('/dist/adapters/'))).toEqual([]);
  });

  it('control: running a command does load what it needs (the hook sees it)', () => {
    const project = path.join(dir, 'project');
    mkdirSync(path.join(project, '.git'), { recursive: true });
    writeFileSync(path.join(project, 'mlops.config.yaml'), 'project: demo\n');
    const packages = pkg(loaded(['config', 'validate'], project));
    for (const p of ['commander', 'zod', 'yaml']) expect(packages).toContain(p);
    for (const p of HEAVY.filter((h) => !['zod', 'yaml'].includes(h))) expect(packages).not.toContain(p);
  });

  it('chalk is loaded only when a stream gets colour', () => {
    const project = path.join(dir, 'project-color');
    mkdirSync(path.join(project, '.git'), { recursive: true });
    writeFileSync(path.join(project, 'mlops.config.yaml'), 'project: demo\n');
    expect(pkg(loaded(['config', 'validate'], project, { FORCE_COLOR: '1' }))).toContain('chalk');
    expect(pkg(loaded(['config', 'validate'], project))).not.toContain('chalk');
  });
});
