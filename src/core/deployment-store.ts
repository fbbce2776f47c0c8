/**
 * Deployment state in S3: one JSON record per deployment, and a pointer to the endpoint's current
 * one, under deploy.state.uri/{endpoint}/. Every machine sees the same state. What is read back is
 * validated: anyone with write access to the bucket (or a half-finished hand edit) can leave a
 * record that is not one, and acting on it could redeploy or drop the live model.
 */
import type { DeployTarget } from './deploy-target.js';
import { resourceNames, TERMINAL, type DeploymentRecord, type Stage } from './deployment.js';
import { ExternalError, MlopsError } from './errors.js';
import type { ObjectStore } from './ports.js';
import { parseS3Uri } from './s3-uri.js';

const STAGES: readonly Stage[] = ['package', 'shadow', 'bake', 'cutover', ...TERMINAL];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The problems of a value that should be a deployment record (empty when it is one). Given the
 * endpoint whose state it was read from, the record must be about that endpoint and name the
 * SageMaker resources mlops derives from its id: promote creates, updates the endpoint to, and
 * gc deletes what the record names, so a record edited to name another config (one serving an
 * older model, say) must not be acted on.
 */
export function deploymentRecordProblems(v: unknown, endpoint?: string): string[] {
  if (!isObj(v)) return [`expected a JSON object, found ${describe(v)}`];
  const p: string[] = [];
  const str = (o: Obj, k: string, at: string, optional = false) => {
    if (o[k] === undefined && optional) return;
    if (typeof o[k] !== 'string' || o[k] === '') p.push(`${at}${k}: expected a non-empty string, found ${describe(o[k])}`);
  };
  const bool = (o: Obj, k: string) => {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') p.push(`${k}: expected true or false, found ${describe(o[k])}`);
  };
  const stage = (s: unknown, at: string) => {
    if (!STAGES.includes(s as Stage)) p.push(`${at}: unknown stage ${describe(s)} (one of ${STAGES.join(', ')})`);
  };
  if (v.schema !== 1) p.push(`schema: expected 1, found ${describe(v.schema)}`);
  for (const k of ['id', 'endpoint', 'artifact', 'createdAt', 'updatedAt']) str(v, k, '');
  stage(v.stage, 'stage');
  if (!isObj(v.candidate)) p.push(`candidate: expected an object, found ${describe(v.candidate)}`);
  else {
    str(v.candidate, 'registeredModel', 'candidate.');
    str(v.candidate, 'version', 'candidate.');
    str(v.candidate, 'runId', 'candidate.', true);
  }
  if (v.previous !== undefined) {
    if (!isObj(v.previous)) p.push(`previous: expected an object, found ${describe(v.previous)}`);
    else {
      str(v.previous, 'endpointConfig', 'previous.');
      str(v.previous, 'model', 'previous.');
    }
  }
  str(v, 'previousAliasVersion', '', true);
  if (!isObj(v.names)) p.push(`names: expected an object, found ${describe(v.names)}`);
  else {
    for (const k of ['model', 'shadowConfig', 'finalConfig']) str(v.names, k, 'names.');
    if (!Array.isArray(v.names.alarms) || v.names.alarms.some((a) => typeof a !== 'string'))
      p.push(`names.alarms: expected a list of names, found ${describe(v.names.alarms)}`);
    if (endpoint !== undefined && !p.length) p.push(...nameProblems(v.names, v.endpoint, v.id as string, endpoint));
  }
  for (const k of ['artifactUploaded', 'modelCreated', 'aliasMoved']) bool(v, k);
  for (const k of ['shadowStartedAt', 'cutoverIssuedAt', 'reason']) str(v, k, '', true);
  if (v.bake !== undefined) {
    if (!isObj(v.bake) || typeof v.bake.passed !== 'boolean' || !Array.isArray(v.bake.reasons))
      p.push(`bake: expected { passed, reasons, measured, judgedAt }, found ${describe(v.bake)}`);
  }
  if (v.deleted !== undefined && (!Array.isArray(v.deleted) || v.deleted.some((a) => typeof a !== 'string')))
    p.push(`deleted: expected a list of names, found ${describe(v.deleted)}`);
  if (!Array.isArray(v.history)) p.push(`history: expected a list, found ${describe(v.history)}`);
  else
    v.history.forEach((h, i) => {
      if (!isObj(h) || typeof h.at !== 'string') p.push(`history[${i}]: expected { stage, at }, found ${describe(h)}`);
      else stage(h.stage, `history[${i}].stage`);
    });
  return p;
}

/** How the record's endpoint and resource names differ from what mlops derives for `endpoint` and the record's id. */
function nameProblems(names: Obj, recordEndpoint: unknown, id: string, endpoint: string): string[] {
  if (recordEndpoint !== endpoint) return [`endpoint: expected ${describe(endpoint)} (the state's), found ${describe(recordEndpoint)}`];
  const want = resourceNames(endpoint, id);
  const p: string[] = [];
  for (const k of ['model', 'shadowConfig', 'finalConfig', 'restoreConfig', 'smokeConfig'] as const) {
    // restoreConfig and smokeConfig are absent from records made before they existed.
    if ((k === 'restoreConfig' || k === 'smokeConfig') && names[k] === undefined) continue;
    if (names[k] !== want[k]) p.push(`names.${k}: expected ${describe(want[k])} (from the id), found ${describe(names[k])}`);
  }
  const alarms = names.alarms as string[];
  if (alarms.length && alarms.join('\n') !== want.alarms.join('\n'))
    p.push(`names.alarms: expected none or ${want.alarms.join(', ')} (from the id), found ${describe(alarms.join(', '))}`);
  return p;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

export class DeploymentStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly endpoint: string,
  ) {}
  private base() {
    return `${this.prefix ? this.prefix + '/' : ''}${this.endpoint}`;
  }
  recordKey(id: string) {
    return `${this.base()}/deployments/${id}.json`;
  }
  uri(id: string) {
    return `s3://${this.bucket}/${this.recordKey(id)}`;
  }
  /** s3:// URI of the endpoint's current.json. */
  pointerUri() {
    return `s3://${this.bucket}/${this.base()}/current.json`;
  }
  /** The current (latest) deployment of the endpoint; STATE_INVALID (exit 3) when the state is not readable as one. */
  async current(): Promise<DeploymentRecord | undefined> {
    const ptr = await this.read(`${this.base()}/current.json`);
    if (!ptr) return undefined;
    const id = isObj(ptr.value) ? ptr.value.id : undefined;
    if (typeof id !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(id)) {
      throw this.invalid(
        `${this.pointerUri()} is not a deployment pointer: expected { "id": "<deployment id>" }, found ${describe(ptr.value)}`,
      );
    }
    const rec = await this.read(this.recordKey(id));
    if (!rec) {
      throw this.invalid(`${this.pointerUri()} points at deployment ${id}, but its record ${this.uri(id)} does not exist`);
    }
    const problems = deploymentRecordProblems(rec.value, this.endpoint);
    if (!problems.length && (rec.value as DeploymentRecord).id !== id)
      problems.push(`id: expected ${id} (the pointer's), found ${describe((rec.value as DeploymentRecord).id)}`);
    if (problems.length) throw this.invalid(`${this.uri(id)} is not a valid deployment record: ${problems.slice(0, 5).join('; ')}`);
    return rec.value as DeploymentRecord;
  }
  async save(r: DeploymentRecord): Promise<void> {
    await this.store.putJson(this.bucket, this.recordKey(r.id), r);
  }
  async setCurrent(id: string): Promise<void> {
    await this.store.putJson(this.bucket, `${this.base()}/current.json`, { id });
  }
  async list(): Promise<string[]> {
    return this.store.list(this.bucket, `${this.base()}/deployments/`);
  }
  /** Every deployment record of the endpoint; records that do not validate are returned as problems, not records. */
  async all(): Promise<{ records: DeploymentRecord[]; problems: string[] }> {
    const records: DeploymentRecord[] = [];
    const problems: string[] = [];
    for (const key of await this.list()) {
      if (!key.endsWith('.json')) continue;
      const got = await this.store.getJson<unknown>(this.bucket, key).catch((e: unknown) => {
        problems.push(`s3://${this.bucket}/${key}: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      });
      if (!got) continue;
      const p = deploymentRecordProblems(got.value, this.endpoint);
      if (p.length) problems.push(`s3://${this.bucket}/${key}: ${p.slice(0, 3).join('; ')}`);
      else records.push(got.value as DeploymentRecord);
    }
    return { records, problems };
  }
  private async read(key: string): Promise<{ value: unknown } | undefined> {
    try {
      return await this.store.getJson<unknown>(this.bucket, key);
    } catch (e) {
      if (e instanceof MlopsError && e.code === 'S3_BAD_JSON') throw this.invalid(e.message);
      throw e;
    }
  }
  private invalid(what: string): ExternalError {
    return new ExternalError('STATE_INVALID', `The deployment state of ${this.endpoint} is not valid: ${what}.`, {
      hint:
        'Nothing was changed. Check what the endpoint serves (`mlops status` shows the endpoint; the AWS console too), then ' +
        `restore the object from its previous S3 version, or remove the pointer (\`aws s3 rm ${this.pointerUri()}\`): ` +
        'the next `mlops promote` then starts a new deployment from what the endpoint serves.',
      details: { pointer: this.pointerUri() },
    });
  }
}

/** The deployment records of the target's endpoint, under deploy.state.uri. */
export function deploymentStore(store: ObjectStore, deploy: Pick<DeployTarget, 'state' | 'endpointName'>): DeploymentStore {
  const { bucket, prefix } = parseS3Uri(deploy.state.uri);
  return new DeploymentStore(store, bucket, prefix, deploy.endpointName);
}
