/**
 * Vitest global setup of the integration project: one real MLflow server and one moto server for
 * the whole run, started in parallel, their URLs provided to tests (`inject('mlflowUrl')`,
 * `inject('motoUrl')`), stopped at teardown.
 */
import type { TestProject } from 'vitest/node';
import { startMlflow, startMoto, type Peer } from './support/peers.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await Promise.allSettled([startMlflow(), startMoto()]);
  const peers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failures = started.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  if (failures.length > 0) {
    await Promise.all(peers.map((p) => p.stop()));
    throw failures.length === 1 ? failures[0] : new AggregateError(failures, 'test bed peers failed to start');
  }
  const [mlflow, moto] = peers as [Peer, Peer];
  project.provide('mlflowUrl', mlflow.url);
  project.provide('motoUrl', moto.url);
  return async () => {
    await Promise.all([mlflow.stop(), moto.stop()]);
  };
}
