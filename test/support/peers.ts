/**
 * The real peers of the test bed (MLflow tracking server, moto), started on free loopback ports
 * from the project's virtual environment (.venv, made by scripts/setup-venv.sh). A thin wrapper
 * over src/sandbox/local-stack.ts (attached mode: the servers die with the test process), which
 * the demo and `mlops sandbox` use too.
 */
import { join } from 'node:path';
import * as stack from '../../src/sandbox/local-stack.js';

/** The repository root. */
export const REPO_ROOT = stack.PACKAGE_ROOT;
/** The project's virtual environment. */
export const VENV = join(REPO_ROOT, '.venv');
/** The bin folder of the project's virtual environment. */
export const VENV_BIN = join(VENV, 'bin');
/** The venv's Python interpreter. */
export const venvPython = join(VENV_BIN, 'python');

/** A running peer: its base URL (no trailing slash) and how to stop it. */
export type Peer = stack.Peer;

export interface StartOptions {
  /** How long to wait for the peer to answer (default: 90 s for MLflow, 30 s for moto). */
  readyTimeoutMs?: number;
  /** Extra environment for the peer process. */
  env?: Record<string, string>;
}

/** Throws a clear error when the venv or one of its programs is missing. */
export function requireVenvBin(name: string): string {
  return stack.requireVenvBin(VENV, name);
}

/** AWS settings that point the SDKs (JS and boto3) at moto with dummy credentials. */
export function motoEnv(motoUrl: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: motoUrl,
    MLFLOW_S3_ENDPOINT_URL: motoUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Starts the real `mlflow server` (sqlite backend, proxied artifacts in a temp folder). */
export function startMlflow(opts: StartOptions = {}): Promise<Peer> {
  return stack.startMlflow({ venv: VENV, mode: 'attached', ...opts });
}

/** Starts `moto_server` on 127.0.0.1 and a free port. */
export function startMoto(opts: StartOptions = {}): Promise<Peer> {
  return stack.startMoto({ venv: VENV, mode: 'attached', ...opts });
}
