/**
 * `node dist/emulator/main.js --s3-endpoint URL --cloudwatch-endpoint URL [--port N]
 * [--time-scale X] [--region R] [--venv DIR] [--botocore-data DIR] [--mlflow PATH] [--verbose]`
 * Starts the SageMaker emulator, prints its URL on stdout, stops cleanly on SIGINT/SIGTERM.
 * (`--moto URL` sets both endpoints.)
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulator, type Durations } from './index.js';

const USAGE = `usage: sagemaker-emulator (--moto URL | --s3-endpoint URL --cloudwatch-endpoint URL)
  [--port N] [--host 127.0.0.1] [--region us-east-1] [--time-scale X]
  [--durations JSON] [--venv DIR] [--botocore-data DIR] [--mlflow PATH] [--verbose]`;

export interface MainDeps {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
  /** Resolves when the emulator should stop (default: the first SIGINT or SIGTERM). */
  stopSignal: Promise<void>;
}

function processDeps(): MainDeps {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stopSignal: new Promise<void>((resolve) => {
      const onSignal = () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }),
  };
}

/** Runs the emulator until the stop signal; returns the exit code (2 for bad flags). */
export async function main(argv: string[], deps: MainDeps = processDeps()): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        moto: { type: 'string' },
        's3-endpoint': { type: 'string' },
        'cloudwatch-endpoint': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        region: { type: 'string' },
        'time-scale': { type: 'string' },
        durations: { type: 'string' },
        venv: { type: 'string' },
        'botocore-data': { type: 'string' },
        mlflow: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    deps.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    deps.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const s3Endpoint = values['s3-endpoint'] ?? values.moto;
  const cloudWatchEndpoint = values['cloudwatch-endpoint'] ?? values.moto;
  if (!s3Endpoint || !cloudWatchEndpoint) {
    deps.stderr.write(`the S3 and CloudWatch endpoints are required\n${USAGE}\n`);
    return 2;
  }
  const emulator = await startEmulator({
    s3Endpoint,
    cloudWatchEndpoint,
    port: values.port ? Number(values.port) : undefined,
    host: values.host,
    region: values.region ?? deps.env.AWS_REGION,
    timeScale: values['time-scale'] ? Number(values['time-scale']) : undefined,
    durations: values.durations ? (JSON.parse(values.durations) as Partial<Durations>) : undefined,
    venv: values.venv,
    botocoreDataDir: values['botocore-data'],
    mlflowBin: values.mlflow,
    env: deps.env,
    log: values.verbose ? (line) => deps.stderr.write(`[sagemaker-emulator] ${line}\n`) : undefined,
  });
  deps.stdout.write(`${emulator.url}\n`);
  await deps.stopSignal;
  await emulator.stop();
  return 0;
}

function isEntry(): boolean {
  try {
    return Boolean(process.argv[1]) && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`sagemaker-emulator: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
