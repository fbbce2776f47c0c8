/**
 * SageMaker Runtime's InvokeEndpoint: picks the fleet (old/new during a blue/green deployment, by
 * the traffic share of the current step), then the variant (by weight, or TargetVariant), calls
 * its real MLflow scoring server, mirrors the request to the shadow variant, and records data
 * capture and CloudWatch metrics.
 */
import { randomUUID } from 'node:crypto';
import { captureRecord, type CaptureWriter } from './capture.js';
import type { ControlPlane, EndpointRec, Fleet, VariantRt } from './control-plane.js';
import { ApiError, runtimeValidation } from './errors.js';
import type { MetricsPublisher } from './metrics.js';

export interface VariantFault {
  /** Extra latency (real milliseconds) added before the model answers. */
  latencyMs?: number;
  /** Share of requests (0..1) that fail as a model error with status 500. */
  errorRate?: number;
  /** Only the fleet of this endpoint config (e.g. the new fleet of a blue/green update); default: every fleet. */
  endpointConfigName?: string;
}

export interface InvokeRequest {
  endpointName: string;
  body: Buffer;
  contentType: string;
  accept?: string;
  targetVariant?: string;
  inferenceId?: string;
  customAttributes?: string;
}

export interface InvokeResponse {
  body: Buffer;
  contentType: string;
  variant: string;
}

export interface RuntimeDeps {
  control: ControlPlane;
  capture: CaptureWriter;
  metrics: MetricsPublisher;
  faults: Map<string, VariantFault>;
  region: string;
  account: string;
  random?: () => number;
}

const SERVING = new Set(['InService', 'Updating', 'RollingBack', 'SystemUpdating', 'UpdateRollbackFailed']);

export const faultKey = (endpoint: string, variant: string) => `${endpoint}/${variant}`;

export class Runtime {
  private readonly random: () => number;
  /** Shadow calls still running (stop waits for them so their capture is flushed). */
  private shadowCalls = new Set<Promise<void>>();

  constructor(private readonly d: RuntimeDeps) {
    this.random = d.random ?? Math.random;
  }

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    const started = process.hrtime.bigint();
    const ep = this.d.control.endpoints.get(req.endpointName);
    if (!ep || !SERVING.has(ep.status) || !ep.active) {
      throw runtimeValidation(`Endpoint ${req.endpointName} of account ${this.d.account} not found.`);
    }
    const { fleet, variant } = this.route(ep, req.targetVariant);
    const time = new Date();
    const eventId = randomUUID();
    const captured = fleet.capture?.enabled && this.random() * 100 < fleet.capture.samplingPercentage;

    // One capture record per answering variant, production and shadow alike (same event id).
    const capture = (variantName: string, r: Awaited<ReturnType<typeof this.callVariant>>) => {
      if (!captured || !fleet.capture || !r.ok) return;
      this.d.capture.add(
        fleet.capture.destinationS3Uri,
        ep.name,
        variantName,
        captureRecord(
          fleet.capture,
          { contentType: req.contentType, body: req.body },
          { contentType: r.contentType, body: r.body },
          { eventId, inferenceId: req.inferenceId, time },
        ),
        time,
      );
    };
    const result = await this.callVariant(ep, fleet, variant, req, started);
    capture(variant.name, result);
    // Shadow variants get a copy of the request; what they answer is captured, never returned.
    for (const shadow of fleet.shadows) {
      const share = variant.weight > 0 ? Math.min(1, shadow.weight / variant.weight) : 1;
      if (this.random() >= share) continue;
      const p = (async () => {
        capture(shadow.name, await this.callVariant(ep, fleet, shadow, req, process.hrtime.bigint()));
      })().catch(() => undefined);
      this.shadowCalls.add(p);
      void p.finally(() => this.shadowCalls.delete(p));
    }
    if (!result.ok) throw result.error;
    return { body: result.body, contentType: result.contentType, variant: variant.name };
  }

  async drain(): Promise<void> {
    await Promise.all([...this.shadowCalls]);
  }

  /** Old or new fleet by the deployment's traffic share, then a variant by weight or name. */
  private route(ep: EndpointRec, target?: string): { fleet: Fleet; variant: VariantRt } {
    const blue = ep.active!;
    const green = ep.pending && ep.pending.traffic > 0 && ep.status === 'Updating' ? ep.pending : undefined;
    const candidates: Array<{ fleet: Fleet; share: number }> = [{ fleet: blue, share: green ? 1 - green.traffic : 1 }];
    if (green) candidates.push({ fleet: green.fleet, share: green.traffic });
    const withVariant = target ? candidates.filter((c) => c.fleet.variants.some((v) => v.name === target)) : candidates;
    if (withVariant.length === 0) {
      throw runtimeValidation(`Endpoint ${ep.name} does not have target variant ${target}.`);
    }
    const fleet = pick(withVariant, (c) => c.share, this.random)?.fleet ?? withVariant[0].fleet;
    const variant = target ? fleet.variants.find((v) => v.name === target)! : pick(fleet.variants, (v) => v.weight, this.random);
    if (!variant) {
      throw runtimeValidation(`Endpoint ${ep.name} has no variant with a positive weight; specify TargetVariant.`);
    }
    return { fleet, variant };
  }

  private async callVariant(
    ep: EndpointRec,
    fleet: Fleet,
    v: VariantRt,
    req: InvokeRequest,
    started: bigint,
  ): Promise<{ ok: true; body: Buffer; contentType: string } | { ok: false; error: ApiError }> {
    const logUrl = `https://${this.d.region}.console.aws.amazon.com/cloudwatch/home?region=${this.d.region}#logEventViewer:group=/aws/sagemaker/Endpoints/${ep.name}`;
    const logStreamArn = `arn:aws:logs:${this.d.region}:${this.d.account}:log-group:/aws/sagemaker/Endpoints/${ep.name}`;
    const modelError = (status: number, message: string) =>
      new ApiError(
        424,
        'ModelError',
        `Received ${status < 500 ? 'client' : 'server'} error (${status}) from primary with message "${message}". See ${logUrl} in account ${this.d.account} for more information.`,
        { OriginalStatusCode: status, OriginalMessage: message, LogStreamArn: logStreamArn },
      );
    const set = this.d.faults.get(faultKey(ep.name, v.name));
    const fault = set && (!set.endpointConfigName || set.endpointConfigName === fleet.configName) ? set : undefined;
    const modelStart = process.hrtime.bigint();
    let outcome: 'ok' | '4xx' | '5xx' = 'ok';
    let result: { ok: true; body: Buffer; contentType: string } | { ok: false; error: ApiError };
    try {
      if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
      if (fault?.errorRate && this.random() < fault.errorRate) {
        outcome = '5xx';
        result = { ok: false, error: modelError(500, 'Injected fault: the model failed (emulator error rate).') };
      } else if (!v.server) {
        outcome = '5xx';
        result = { ok: false, error: modelError(500, 'The model server is not running.') };
      } else {
        const r = await v.server.invoke(req.body, req.contentType, req.accept);
        if (r.status >= 200 && r.status < 300) {
          result = { ok: true, body: r.body, contentType: r.contentType };
        } else {
          outcome = r.status < 500 ? '4xx' : '5xx';
          result = { ok: false, error: modelError(r.status, r.body.toString('utf8')) };
        }
      }
    } catch (err) {
      outcome = '5xx';
      result =
        (err as Error).name === 'TimeoutError'
          ? {
              ok: false,
              error: new ApiError(424, 'ModelError', 'Your invocation timed out while waiting for a response from container primary.', {
                LogStreamArn: logStreamArn,
              }),
            }
          : { ok: false, error: modelError(500, `Could not reach the model server: ${(err as Error).message}`) };
    }
    const end = process.hrtime.bigint();
    const modelUs = Number(end - modelStart) / 1000;
    const totalUs = Number(end - started) / 1000;
    this.d.metrics.record({
      endpoint: ep.name,
      endpointConfig: fleet.configName,
      variant: v.name,
      instanceCount: v.instanceCount,
      outcome,
      modelLatencyUs: Math.round(modelUs),
      overheadLatencyUs: Math.max(0, Math.round(totalUs - modelUs)),
    });
    return result;
  }
}

/** Weighted random choice; undefined when every weight is 0. */
function pick<T>(items: T[], weight: (t: T) => number, random: () => number): T | undefined {
  const total = items.reduce((s, i) => s + Math.max(0, weight(i)), 0);
  if (total <= 0) return undefined;
  let r = random() * total;
  for (const i of items) {
    r -= Math.max(0, weight(i));
    if (r < 0) return i;
  }
  return items.filter((i) => weight(i) > 0).at(-1);
}
