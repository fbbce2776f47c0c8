/**
 * Deployment state in S3: one JSON record per deployment, and a pointer to the endpoint's current
 * one, under deploy.state.uri/{endpoint}/. Every machine sees the same state.
 */
import type { DeployTarget } from './deploy-target.js';
import type { DeploymentRecord } from './deployment.js';
import type { ObjectStore } from './ports.js';
import { parseS3Uri } from './s3-uri.js';

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
  /** The current (latest) deployment of the endpoint. */
  async current(): Promise<DeploymentRecord | undefined> {
    const ptr = await this.store.getJson<{ id: string }>(this.bucket, `${this.base()}/current.json`);
    if (!ptr) return undefined;
    return (await this.store.getJson<DeploymentRecord>(this.bucket, this.recordKey(ptr.value.id)))?.value;
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
}

/** The deployment records of the target's endpoint, under deploy.state.uri. */
export function deploymentStore(store: ObjectStore, deploy: Pick<DeployTarget, 'state' | 'endpointName'>): DeploymentStore {
  const { bucket, prefix } = parseS3Uri(deploy.state.uri);
  return new DeploymentStore(store, bucket, prefix, deploy.endpointName);
}
