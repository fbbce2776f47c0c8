/**
 * `node dist/demo/run.js [--keep]`: what `npm run demo` runs after its set-up (scripts/demo.sh).
 * Starts the local stack (attached: it dies with this process), plays src/demo/scenario.ts in a
 * temp folder, prints a summary with the time each step took, and stops everything it started,
 * also on Ctrl-C or an error. Exit 0 when every step behaved as the story says, 1 when one did
 * not, 130 when interrupted.
 */
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveVenv, startLocalStack, venvReady, type LocalStack } from '../sandbox/local-stack.js';
import { runScenario, ScenarioError, type ScenarioResult } from './scenario.js';

/** Emulated SageMaker seconds per real second in the demo. */
export const DEMO_TIME_SCALE = 50;

export async function demo(argv: string[], env: Record<string, string | undefined>, stderr: NodeJS.WriteStream): Promise<number> {
  const keep = argv.includes('--keep');
  const unknown = argv.filter((a) => a !== '--keep');
  if (unknown.length) {
    stderr.write(`demo: unknown option ${unknown[0]} (options: --keep)\n`);
    return 2;
  }
  const color = Boolean(stderr.isTTY) && !env.NO_COLOR;
  const say = (t: string) => stderr.write(color ? `\n\x1b[1m==> ${t}\x1b[0m\n` : `\n==> ${t}\n`);
  const print = (l: string) => stderr.write(`    ${l}\n`);

  const venv = resolveVenv(env);
  if (!venvReady(venv.dir)) {
    stderr.write(`demo: no Python environment at ${venv.dir}; run it through \`npm run demo\` (it makes one)\n`);
    return 2;
  }

  const abort = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    stderr.write('\ninterrupted: stopping what the demo started\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const workDir = mkdtempSync(path.join(tmpdir(), 'mlops-demo-'));
  let stack: LocalStack | undefined;
  let result: ScenarioResult | undefined;
  let code = 0;
  const t0 = Date.now();
  const timings: Array<[string, number]> = [];
  try {
    say('starting the local stack: MLflow, moto (S3, CloudWatch), the SageMaker emulator');
    const ts = Date.now();
    stack = await startLocalStack({ venv: venv.dir, mode: 'attached', timeScale: DEMO_TIME_SCALE, baseEnv: env, log: print });
    timings.push(['start the local stack', Date.now() - ts]);
    if (abort.signal.aborted) throw new Error('interrupted');
    result = await runScenario({
      workDir,
      venv: venv.dir,
      urls: stack.urls,
      baseEnv: {
        PATH: env.PATH,
        HOME: env.HOME,
        USER: env.USER,
        TMPDIR: env.TMPDIR,
        LANG: env.LANG,
        TERM: env.TERM,
        NO_COLOR: env.NO_COLOR,
      },
      onStep: say,
      print,
      echo: true,
      signal: abort.signal,
    });
    for (const s of result.steps) timings.push([s.title, s.ms]);

    say('summary');
    for (const s of result.steps) print(`${(s.ms / 1000).toFixed(1).padStart(6)} s  ${s.name.padEnd(8)} ${s.summary}`);
    print(
      `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  in all (the stack took ${(timings[0][1] / 1000).toFixed(1)} s to start)`,
    );
    print('');
    print(`MLflow UI:        ${stack.urls.mlflow}  (experiment and registered model "demo")`);
    print('the endpoint now (mlops status):');
    for (const l of result.observed.audit.statusText.trimEnd().split('\n')) print(`  ${l}`);
    print(
      `audit records:    ${result.observed.audit.location} (${result.observed.audit.records} records, chain intact: mlops audit verify)`,
    );
    print(`the project:      ${result.observed.project.dir}`);
    print(
      `server logs:      ${Object.values(stack.peers)
        .map((p) => p.logPath)
        .join(', ')}`,
    );
    if (keep && !abort.signal.aborted) {
      say('the servers keep running (--keep); press Ctrl-C to stop them');
      await new Promise<void>((r) => abort.signal.addEventListener('abort', () => r(), { once: true }));
    } else {
      print('(all of it is stopped and removed now; `npm run demo -- --keep` keeps it up to browse MLflow)');
    }
  } catch (err) {
    if (interrupted) {
      code = 130;
    } else if (err instanceof ScenarioError) {
      stderr.write(`\ndemo failed at step "${err.step}": ${err.message}\n`);
      code = 1;
    } else {
      stderr.write(`\ndemo failed: ${(err as Error).stack ?? String(err)}\n`);
      code = 1;
    }
  } finally {
    if (stack) {
      if (code !== 0 && code !== 130) {
        // The servers' folders go with them: keep their logs beside the project.
        mkdirSync(path.join(workDir, 'logs'), { recursive: true });
        for (const p of Object.values(stack.peers)) {
          try {
            copyFileSync(p.logPath, path.join(workDir, 'logs', path.basename(p.logPath)));
          } catch {
            // no log yet
          }
        }
      }
      say('stopping the servers');
      await stack.stop();
    }
    if (code === 0 || code === 130) rmSync(workDir, { recursive: true, force: true });
    else stderr.write(`kept for inspection: ${workDir} (the project, the DVC remote, the servers' logs in logs/)\n`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (code === 0) say(`demo finished in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return code;
}

function isEntry(): boolean {
  try {
    return Boolean(process.argv[1]) && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntry()) {
  demo(process.argv.slice(2), process.env, process.stderr).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`demo: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
