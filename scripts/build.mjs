#!/usr/bin/env node
// `npm run build`: bundles src/ into dist/ with esbuild (type checking is `npm run typecheck`).
//
// Why a bundle: Node resolves, reads and compiles every module file on its own; the CLI with its
// dependencies is hundreds of files, and that, not our code, was most of the start-up of a command.
// The bundle is a few files: dist/cli/main.js (argv, the command table, help) and chunks under
// dist/chunks/, one per lazily imported command (`import()` in src/cli/loaders.ts) plus the code
// they share, so a command loads only what it needs and the AWS SDK, octokit and gitbeaker stay
// off the path of commands that do not use them.
//
// Layout rule: every output file that uses `import.meta.url` sits exactly one folder below dist/
// (dist/cli/, dist/chunks/, dist/emulator/ ...), as its source sits one folder below src/, so
// `new URL('../../package.json', import.meta.url)` and `../templates/` work from the sources, from
// any chunk and from any entry alike. The build checks it.
//
// Usage: node scripts/build.mjs [--outdir DIR] [--metafile FILE]
import { cpSync, existsSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? path.resolve(process.argv[i + 1]) : undefined;
};
const outdir = arg('outdir') ?? path.join(root, 'dist');

/** Programs: run as `node dist/<path>.js`. */
const PROGRAMS = ['cli/main', 'emulator/main', 'demo/run'];

/**
 * Worker-thread entries, started with `new Worker(new URL('./<name>.js', import.meta.url))` from a
 * module in the same source folder. To add a worker: add its path here (the build fails on a
 * worker URL whose file is not listed, and rewrites listed ones to the worker's place in dist/).
 */
const WORKERS = ['adapters/capture-source-worker'];

/** Modules that tests, benches and scripts import from dist/ directly (as `dist/<path>.js`). */
const LIBRARIES = [
  'adapters/capture-source',
  'adapters/model-package',
  'adapters/s3-store',
  'app/deploy',
  'cli/io',
  'commands/promote',
  'config/json-schema',
  'config/load',
  'config/plan',
  'core/drift/evaluate',
  'core/drift/profile',
  'core/promote-run',
  'core/rollback-run',
  'emulator/index',
  'sandbox/local-stack',
];

const entries = [...PROGRAMS, ...WORKERS, ...LIBRARIES];
const workerFiles = new Set(WORKERS.map((w) => path.join(root, 'src', `${w}.ts`)));

/** `new URL('./x.js', import.meta.url)` naming a worker: rewritten to `../<folder>/x.js`, right from every output file. */
const WORKER_URL = /new URL\((['"])\.\/([\w.-]+)\.js\1,\s*import\.meta\.url\)/g;
const workerUrls = {
  name: 'worker-urls',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const errors = [];
      const contents = text.replace(WORKER_URL, (all, q, name) => {
        const file = path.join(path.dirname(args.path), `${name}.ts`);
        if (!existsSync(file)) return all;
        if (!workerFiles.has(file)) {
          errors.push({ text: `${path.relative(root, file)} is started as a worker but is not in WORKERS of scripts/build.mjs` });
          return all;
        }
        const rel = path.relative(path.join(root, 'src'), file).replace(/\\/g, '/').replace(/\.ts$/, '.js');
        return `new URL(${q}../${rel}${q}, import.meta.url)`;
      });
      return { contents, loader: 'ts', errors };
    });
  },
};

/**
 * yaml's Node build is CommonJS (one opaque module to the bundler); its browser build is the same
 * code as ES modules, which the bundler can trim to the parts mlops uses.
 */
const yamlEsm = {
  name: 'yaml-esm',
  setup(build) {
    build.onResolve({ filter: /^yaml$/ }, () => ({ path: path.join(root, 'node_modules/yaml/browser/index.js') }));
  },
};

/**
 * commander requires node:child_process at load, for executable subcommands (which mlops does not
 * use); loading it pulls in net, dgram and more, ~2 ms of every command's start-up. Here it is
 * required on first use instead, whatever member commander then uses. The build fails if
 * commander's line changes, if it requires child_process a second time, or if the file is no
 * longer where the filter looks (update this then).
 */
const COMMANDER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
let commanderPatched = 0;
const commanderLazyChildProcess = {
  name: 'commander-lazy-child-process',
  setup(build) {
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (text.split(COMMANDER_CHILD_PROCESS).length !== 2 || text.match(/child_process/g).length !== 1) {
        return {
          errors: [
            {
              text: `commander's lib/command.js no longer requires child_process once, as ${COMMANDER_CHILD_PROCESS} (see scripts/build.mjs)`,
            },
          ],
        };
      }
      commanderPatched++;
      const lazy = "const childProcess = new Proxy({}, { get: (_target, name) => require('node:child_process')[name] });";
      return { contents: text.replace(COMMANDER_CHILD_PROCESS, lazy), loader: 'js' };
    });
  },
};

/**
 * The config validator's plan (src/config/config-plan.json, ~30 KB) as JSON.parse of a string: V8
 * parses JSON text faster than it compiles the same object as a JavaScript literal (~1 ms here).
 */
const planAsJsonText = {
  name: 'plan-as-json-text',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]config[\\/]config-plan\.json$/ }, (args) => {
      const compact = JSON.stringify(JSON.parse(readFileSync(args.path, 'utf8')));
      return { contents: `export default JSON.parse(${JSON.stringify(compact)});`, loader: 'js' };
    });
  },
};

// Two steps. (1) esbuild bundles the TypeScript sources as ES modules with code splitting (esbuild
// splits only ES modules) into a staging folder. (2) Each file of that output is rewritten as
// CommonJS into dist/, whose package.json says "commonjs". Why CommonJS: on Node 20 the ES module
// loader costs ~6 ms to start and ~1 ms per file it links (resolution by URL, module jobs, async
// linking), where require() costs a fraction of that; a command loads 10-20 of these files, so
// this was most of what a command added to `node -e 0`. Dynamic import() becomes a lazy require(),
// so every chunk still loads only when its command runs; source maps chain back to src/.
const stage = `${outdir}.esm-stage`;
rmSync(outdir, { recursive: true, force: true });
rmSync(stage, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(entries.map((e) => [e, path.join(root, 'src', `${e}.ts`)])),
  outdir: stage,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // ESM builds of dependencies first: smaller chunks (tree shaking) and no CommonJS wrappers.
  mainFields: ['module', 'main'],
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [workerUrls, yamlEsm, commanderLazyChildProcess, planAsJsonText],
});
const staged = Object.keys(result.metafile.outputs)
  .filter((o) => o.endsWith('.js'))
  .map((o) => path.resolve(root, o));
await esbuild.build({
  absWorkingDir: root,
  entryPoints: staged,
  outbase: stage,
  outdir,
  bundle: false,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // import() of a chunk becomes Promise.resolve().then(() => require(chunk)): the ES module loader
  // would otherwise start for it.
  supported: { 'dynamic-import': false },
  sourcemap: 'linked',
  sourcesContent: false,
  define: { 'import.meta.url': '__mlopsImportMetaUrl' },
  // The directive first: esbuild's own "use strict" (ES modules are strict) comes after the banner,
  // where it is a plain expression, and the code would run in sloppy mode, unlike its sources.
  banner: { js: `"use strict"; const __mlopsImportMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
  logLevel: 'warning',
});
for (const f of readdirSync(stage, { recursive: true })) {
  if (String(f).endsWith('.LEGAL.txt')) cpSync(path.join(stage, String(f)), path.join(outdir, String(f)));
}
writeFileSync(path.join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
rmSync(stage, { recursive: true, force: true });

if (commanderPatched === 0) {
  console.error(
    "build: commander's lib/command.js was not bundled, so its require of child_process was not made lazy: update commanderLazyChildProcess",
  );
  process.exit(1);
}

// The metafile as of dist/: output paths moved from the staging folder to where they now are.
const relStage = path.relative(root, stage).split(path.sep).join('/');
const relOut = path.relative(root, outdir).split(path.sep).join('/');
const moved = (p) => (p.startsWith(`${relStage}/`) ? `${relOut}/${p.slice(relStage.length + 1)}` : p);
const outputs = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([out, o]) => [
    moved(out),
    { ...o, imports: o.imports.map((im) => ({ ...im, path: moved(im.path) })) },
  ]),
);

// The layout rule above: an output using import.meta.url at another depth would resolve wrongly.
const bad = Object.keys(outputs).filter((out) => {
  if (!out.endsWith('.js')) return false;
  const depth = path.relative(outdir, path.resolve(root, out)).split(path.sep).length - 1;
  if (depth === 1) return false;
  const code = readFileSync(path.resolve(root, out), 'utf8');
  return code.replace(/^"use strict"; const __mlopsImportMetaUrl = .*\n/, '').includes('__mlopsImportMetaUrl');
});
if (bad.length) {
  console.error(`build: these files use import.meta.url but are not one folder below ${outdir}: ${bad.join(', ')}`);
  process.exit(1);
}
const metafile = arg('metafile');
if (metafile) writeFileSync(metafile, JSON.stringify({ ...result.metafile, outputs }));

// ---- The package installs nothing: no import of a package, and the bundled licences ship ----
// package.json has no "dependencies": every library is bundled into dist/ above, so a user's
// install fetches the tarball alone (docs/CONTRIBUTING.md). An output importing a package would
// then fail on the user's machine (an esbuild `external`, or a require/import it could not resolve
// but left in place because a try/catch handles it): only Node's built-ins may stay imported. And
// the bundled packages' licence files no longer arrive in node_modules, so the build writes them to
// dist/THIRD-PARTY-LICENSES.txt, which the package ships. Both read the metafile (`metafile: true`).
{
  const fail = (message) => {
    console.error(`build: ${message}`);
    process.exit(1);
  };

  const importers = new Map();
  for (const [out, { imports }] of Object.entries(outputs)) {
    for (const i of imports) {
      if (i.external && !isBuiltin(i.path)) importers.set(i.path, [...(importers.get(i.path) ?? []), `${out} (${i.kind})`]);
    }
  }
  if (importers.size) {
    const list = [...importers].map(([name, outs]) => `  ${name}: ${outs.join(', ')}`).join('\n');
    fail(`output files import packages, which an installed mlops does not have (bundle them, or make the import go away):\n${list}`);
  }

  const packageDirs = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const dir = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
    // Real paths: a plugin's resolved path may go through a symlinked node_modules, esbuild's do not.
    if (dir) packageDirs.add(realpathSync(path.resolve(root, dir)));
  }
  const texts = new Map(); // licence text -> the packages it is the text of
  const textOf = new Map(); // licence id -> one full text of it
  const withoutFile = [];
  for (const dir of packageDirs) {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const id = `${pkg.name}@${pkg.version}`;
    const licence = typeof pkg.license === 'string' ? pkg.license : pkg.license?.type;
    const files = readdirSync(dir)
      .filter((f) => /^(licen[cs]e|copying|notice)/i.test(f))
      .sort();
    if (!files.length) {
      if (!licence) fail(`${id} (bundled) has neither a licence file nor a "license" in its package.json`);
      const author = typeof pkg.author === 'string' ? pkg.author : pkg.author?.name;
      withoutFile.push({ id, licence, author });
      continue;
    }
    const text = files.map((f) => readFileSync(path.join(dir, f), 'utf8').trim()).join('\n\n');
    texts.set(text, [...(texts.get(text) ?? []), id]);
    if (licence) textOf.set(licence, text);
  }
  const missing = withoutFile.filter((p) => !textOf.has(p.licence));
  if (missing.length)
    fail(`no licence text to ship for ${missing.map((p) => `${p.id} (${p.licence})`).join(', ')}: add it to scripts/build.mjs`);

  const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const sections = [...texts].map(([text, ids]) => ({ ids: ids.sort(byName), text })).sort((a, b) => byName(a.ids[0], b.ids[0]));
  const parts = [
    `The packages bundled into this folder by mlops's build (${packageDirs.size}), each with the licence it is distributed under.`,
    ...sections.map((s) => `${'='.repeat(80)}\n${s.ids.join('\n')}\n${'-'.repeat(80)}\n${s.text}`),
  ];
  if (withoutFile.length) {
    const lines = withoutFile.sort((a, b) => byName(a.id, b.id)).map((p) => `${p.id}: ${p.licence}${p.author ? `, ${p.author}` : ''}`);
    parts.push(
      `${'='.repeat(80)}\nPackages without a licence file; the licence their package.json names, whose text is above:\n${lines.join('\n')}`,
    );
  }
  writeFileSync(path.join(outdir, 'THIRD-PARTY-LICENSES.txt'), `${parts.join('\n\n')}\n`);
}
