/**
 * `mlops --help` must not load command modules or heavy dependencies (and, since it is answered
 * from the command table, not even commander: see src/cli/root-help.ts).
 *
 * Method: bundle the sources into a temp folder with the package's build (scripts/build.mjs, so
 * the test does not depend on, or write, the shared dist/), then run the real bin in a fresh `node`
 * with `--import` of a tiny script that registers a module-resolution hook (node:module
 * `register`). The hook appends every URL the ESM loader resolves to a log file. The bundle's
 * metafile says which sources and packages each output file holds, so the log tells which of them
 * the process loaded. A control run (`config validate`, which needs zod and yaml) proves the hook
 * sees what it should. Modules required from CommonJS are read from the require cache at exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;
/** esbuild's metafile: for each output file, the inputs (sources, package files) it holds. */
interface Meta {
  outputs: Record<string, { inputs: Record<string, unknown>; imports: { path: string; kind: string }[] }>;
}
let meta: Meta;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mlops-startup-'));
  const build = spawnSync(
    process.execPath,
    [path.join(repo, 'scripts/build.mjs'), '--outdir', path.join(dir, 'dist'), '--metafile', path.join(dir, 'meta.json')],
    { encoding: 'utf8' },
  );
  if (build.status !== 0 || !existsSync(path.join(dir, 'dist/cli/main.js')))
    throw new Error(`build into the temp folder failed: ${build.stderr}`);
  meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as Meta;
  cpSync(path.join(repo, 'bin'), path.join(dir, 'bin'), { recursive: true });
  cpSync(path.join(repo, 'package.json'), path.join(dir, 'package.json'));
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  mkdirSync(path.join(dir, 'hook'));
  writeFileSync(
    path.join(dir, 'hook/register.mjs'),
    [
      "import { appendFileSync } from 'node:fs';",
      "import { createRequire, register } from 'node:module';",
      "import { pathToFileURL } from 'node:url';",
      "register('./hooks.mjs', import.meta.url, { data: { log: process.env.LOAD_LOG } });",
      // What is required from CommonJS never passes the ESM hook: add the require cache at exit.
      'const cache = createRequire(import.meta.url).cache;',
      "process.on('exit', () => appendFileSync(process.env.LOAD_LOG, Object.keys(cache).map((f) => pathToFileURL(f).href + '\\n').join('')));",
      '',
    ].join('\n'),
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

/** Runs the bin with argv and returns what it loaded: the sources and packages in the output files it resolved. */
function loaded(argv: string[], cwd = dir, extraEnv: Record<string, string> = {}, exitCode = 0): string[] {
  const log = path.join(dir, `load-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', path.join(dir, 'hook/register.mjs'), path.join(dir, 'bin/mlops.cjs'), ...argv], {
    cwd,
    env: { PATH: process.env.PATH, LOAD_LOG: log, ...(extraEnv.FORCE_COLOR ? extraEnv : { NO_COLOR: '1' }) },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(exitCode);
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const dist = pathToFileURL(path.join(dir, 'dist')).href + '/';
  return urls.flatMap((u) => {
    if (!u.startsWith(dist)) return [u];
    // The metafile names files relative to the repository (the build's working folder).
    const out = meta.outputs[path.relative(repo, fileURLToPath(u)).split(path.sep).join('/')];
    if (!out) throw new Error(`${u} is not in the build's metafile`);
    return Object.keys(out.inputs);
  });
}

const HEAVY = ['zod', 'yaml', 'execa', 'ora', 'axios', '@aws-sdk', '@smithy', '@octokit', '@gitbeaker', 'chalk'];
const pkg = (inputs: string[]) => new Set(inputs.flatMap((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []));
const ours = (inputs: string[], folders: string[]) => inputs.filter((i) => folders.some((f) => i.startsWith(`src/${f}/`)));

describe('start-up', () => {
  it('`mlops --help` loads only the CLI core: no package (not even commander), no command module', () => {
    const inputs = loaded(['--help']);
    const packages = pkg(inputs);
    expect(packages).toEqual(new Set());
    expect(inputs).toContain('src/cli/main.ts');
    expect(ours(inputs, ['commands', 'config', 'adapters'])).toEqual([]);
  });

  it('`mlops config --help` loads commander, and still no command module or heavy dependency', () => {
    const inputs = loaded(['config', '--help']);
    expect(pkg(inputs)).toEqual(new Set(['commander']));
    expect(ours(inputs, ['commands', 'config', 'adapters'])).toEqual([]);
  });

  it('a valid config is read without yaml or zod (the fast path); only commander is loaded', () => {
    const project = path.join(dir, 'project');
    mkdirSync(path.join(project, '.git'), { recursive: true });
    writeFileSync(path.join(project, 'mlops.config.yaml'), 'project: demo\n');
    const inputs = loaded(['config', 'validate'], project);
    expect(inputs).toContain('src/config/fast-validate.ts');
    expect(pkg(inputs)).toEqual(new Set(['commander']));
  });

  it('control: an invalid config loads the full reader, yaml and zod (the hook sees them)', () => {
    const project = path.join(dir, 'project-invalid');
    mkdirSync(path.join(project, '.git'), { recursive: true });
    writeFileSync(path.join(project, 'mlops.config.yaml'), 'project: demo\nmlflow:\n  retries: many\n');
    const inputs = loaded(['config', 'validate'], project, {}, 2);
    expect(inputs).toContain('src/config/parse.ts');
    const packages = pkg(inputs);
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

  it('under --verbose, and only then, stack traces name the TypeScript sources (the bundle has source maps)', () => {
    const project = path.join(dir, 'project-maps');
    mkdirSync(path.join(project, '.git'), { recursive: true });
    writeFileSync(path.join(project, 'mlops.config.yaml'), 'project: demo\n');
    const report = 'data:text/javascript,process.on("exit",()=>process.stderr.write(`maps:${process.sourceMapsEnabled}`))';
    const enabled = (argv: string[]) =>
      spawnSync(process.execPath, ['--import', report, path.join(dir, 'bin/mlops.cjs'), ...argv], {
        cwd: project,
        env: { PATH: process.env.PATH, NO_COLOR: '1' },
        encoding: 'utf8',
      }).stderr;
    expect(enabled(['--verbose', 'config', 'validate'])).toContain('maps:true');
    expect(enabled(['-qv', 'config', 'validate'])).toContain('maps:true');
    expect(enabled(['config', 'validate'])).toContain('maps:false');

    // A stack through the bundle, mapped: its frames name src/**/*.ts, not dist/chunks/*.js.
    const load = pathToFileURL(path.join(dir, 'dist/config/load.js')).href;
    const script = [
      'process.setSourceMapsEnabled(true);',
      `const m = await import(${JSON.stringify(load)});`,
      "await m.loadConfig({ cwd: '/', env: {}, configPath: '/nonexistent.yaml' }).catch((e) => console.log(e.stack));",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/\bsrc\/config\/load\.ts:\d+:\d+/);
    expect(r.stdout).not.toMatch(/dist\/chunks\//);
  });

  it('a reader that goes away (`mlops compare --help | head -2`) ends the output quietly: exit 0, no EPIPE stack', async () => {
    const child = spawn(process.execPath, [path.join(dir, 'bin/mlops.cjs'), 'compare', '--help'], {
      env: { PATH: process.env.PATH, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The read end closes before the child has started, so its first write fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });

  it('every file the bundle finds by `new URL(..., import.meta.url)` (workers, templates, package.json) is where it looks', () => {
    const found: string[] = [];
    for (const out of Object.keys(meta.outputs).filter((o) => o.endsWith('.js'))) {
      const file = path.resolve(repo, out);
      for (const m of readFileSync(file, 'utf8').matchAll(/new URL\("([^"]+)", __mlopsImportMetaUrl\)/g)) {
        const target = path.resolve(path.dirname(file), m[1]);
        const rel = path.relative(path.join(dir, 'dist'), target);
        // Inside dist/: the build's own output; above it: the package's files (templates/, package.json).
        const where = rel.startsWith('..') ? path.resolve(repo, path.relative(dir, target)) : target;
        expect(existsSync(where), `${m[1]} from ${out}`).toBe(true);
        found.push(m[1]);
      }
    }
    expect(found).toContain('../adapters/capture-source-worker.js');
  });

  it('every output file is strict code, as its ES module sources are: "use strict" is its first statement, before the banner', () => {
    const outputs = Object.keys(meta.outputs).filter((o) => o.endsWith('.js'));
    expect(outputs.length).toBeGreaterThan(10);
    const sloppy = outputs.filter((o) => !readFileSync(path.resolve(repo, o), 'utf8').startsWith('"use strict";'));
    expect(sloppy).toEqual([]);
  });

  it('`mlops compare` loads commander, and none of zod, the AWS SDK, octokit, gitbeaker, execa, ora or axios', () => {
    const project = path.join(dir, 'project-compare');
    mkdirSync(path.join(project, '.git'), { recursive: true });
    // Nothing listens on port 1: compare fails fast (exit 3) after loading what it needs to get that far.
    writeFileSync(path.join(project, 'mlops.config.yaml'), 'project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:1\n  retries: 0\n');
    const inputs = loaded(['compare', '--run', 'abc'], project, {}, 3);
    expect(inputs).toContain('src/adapters/mlflow.ts');
    const packages = pkg(inputs);
    expect(packages).toContain('commander');
    // yaml: compare's GitHub annotations read the config's lines (config/positions.ts).
    for (const p of HEAVY.filter((h) => h !== 'yaml')) expect(packages).not.toContain(p);
  });

  it('`mlops compare` holds no AWS wiring in what it loads up front: the audit chain is imported only for a deploy section', () => {
    // The output file holding the command, and every file it imports statically (what loads before it runs).
    const start = Object.keys(meta.outputs).find((o) => 'src/commands/compare.ts' in meta.outputs[o].inputs);
    expect(start).toBeDefined();
    const seen = new Set<string>();
    const walk = (out: string) => {
      if (seen.has(out)) return;
      seen.add(out);
      for (const i of meta.outputs[out].imports) if (i.kind === 'import-statement' && i.path in meta.outputs) walk(i.path);
    };
    walk(start!);
    const inputs = [...seen].flatMap((o) => Object.keys(meta.outputs[o].inputs));
    expect(inputs).toContain('src/adapters/mlflow.ts');
    const aws = [
      'src/app/deploy.ts',
      'src/adapters/aws.ts',
      'src/adapters/audit-log.ts',
      'src/adapters/s3-store.ts',
      'src/adapters/sagemaker.ts',
    ];
    expect(inputs.filter((i) => aws.includes(i) || /node_modules\/@(aws-sdk|smithy)\//.test(i))).toEqual([]);
    expect(inputs).toContain('src/app/gate-audit.ts');
  });
});
