/**
 * What core needs to know about the deploy section. Structural, so the config schema's type
 * (src/config/schema.ts DeployConfig) is assignable to it without core importing config.
 */
import type { BakeCriteria } from './bake.js';

/** Seconds as a number, or a string such as "90s", "15m", "24h" (see duration.ts). */
export type Duration = number | string;

export type CutoverPolicy =
  { type: 'all-at-once' } | { type: 'canary'; size: number; wait: Duration } | { type: 'linear'; step: number; wait: Duration };

/** The SageMaker endpoint promote and rollback manage, and where their state lives. */
export interface DeployTarget {
  endpointName: string;
  executionRoleArn: string;
  image: string;
  instanceType: string;
  instanceCount: number;
  variantName: string;
  artifacts: string;
  dataCapture: { destination: string; samplingPercent: number };
  shadow: { duration: Duration; samplingPercent: number; maxUpdateAttempts?: number };
  bake: BakeCriteria & { latencyStatistic: 'average' | 'p50' | 'p99'; maxPendingRecords?: number };
  /** Example rows sent to the candidate before any user traffic (optional: records made before it existed). */
  smokeTest?: { enabled: boolean; rows: number };
  cutover: CutoverPolicy;
  terminationWait: Duration;
  maxExecutionTimeout: Duration;
  alarms: { errorRate5xx: number; latencyMs: number; drift: number; period: Duration; evaluationPeriods: number };
  rollback: { strategy: 'config' | 'keep-warm' };
  state: { uri: string };
  lock: { uri: string; expiry: Duration };
  audit: { uri: string; retentionDays: number; mode: 'COMPLIANCE' };
}

/** How one promote or rollback run behaves. */
export interface DeploySettings {
  deploy: DeployTarget;
  registeredModel: string;
  /** The registered-model alias that names production (see production-model.ts). */
  alias: string;
  /** user@host (and CI run URL) for audit records. */
  actor: string;
  /** How long this run may wait for SageMaker (status changes, a short bake) before exiting 0. */
  waitBudgetMs: number;
  pollMs: number;
}
