/** Baseline choice (core/baseline.ts) against an in-memory MLflow, and the --baseline parser. */
import { describe, expect, it } from 'vitest';
import {
  baselineSearch,
  canonicalStage,
  parseBaselineFlag,
  resolveBaseline,
  type BaselinePort,
  type RunLike,
} from '../../src/core/baseline.js';
import { exitCodeFor, UserError } from '../../src/core/errors.js';

const RUN = (id: string, start: number, extra: Partial<RunLike['info']> = {}, tags: Record<string, string> = {}): RunLike => ({
  info: { runId: id, experimentId: '1', status: 'FINISHED', startTime: start, runName: `name-${id}`, ...extra },
  data: { metrics: { accuracy: start / 100 }, tags },
});

/** A fake MLflow: runs, one registered model with aliases and staged versions. */
function fake(
  opts: {
    runs?: RunLike[];
    model?: { name: string; aliases: Record<string, string>; versions: Record<string, { runId?: string; stage?: string }> };
  } = {},
) {
  const runs = new Map((opts.runs ?? []).map((r) => [r.info.runId, r]));
  const searches: unknown[] = [];
  const port: BaselinePort = {
    getRun: async (id) => runs.get(id),
    getRegisteredModel: async (name) => (opts.model?.name === name ? { aliases: opts.model.aliases } : undefined),
    getModelVersionByAlias: async (name, alias) => {
      if (opts.model?.name !== name) return { found: false, reason: 'model-not-found' };
      const v = opts.model.aliases[alias];
      if (!v) return { found: false, reason: 'alias-not-found' };
      return { found: true, version: { version: v, runId: opts.model.versions[v]?.runId } };
    },
    getLatestVersions: async (name, stages) => {
      if (opts.model?.name !== name) return [];
      return Object.entries(opts.model.versions)
        .filter(([, v]) => v.stage && stages?.includes(v.stage))
        .map(([version, v]) => ({ version, runId: v.runId, currentStage: v.stage }));
    },
    getExperimentByName: async (name) =>
      name === 'exp' ? { experimentId: '1' } : name === 'gone' ? { experimentId: '9', lifecycleStage: 'deleted' } : undefined,
    searchRuns: async (req) => {
      searches.push(req);
      const branch = /tags\.branch = '(\w+)'/.exec(req.filter ?? '')?.[1];
      const rs = [...runs.values()]
        .filter((r) => r.info.status === 'FINISHED' && (!branch || r.data.tags.branch === branch))
        .sort((a, b) => (b.info.startTime ?? 0) - (a.info.startTime ?? 0));
      return { runs: rs.slice(0, req.maxResults) };
    },
  };
  return { port, searches };
}

const candidate = { runId: 'cand', experimentId: '1' };
const ctx = { registeredModel: 'm', candidate };

describe('parseBaselineFlag', () => {
  it('understands every documented form', () => {
    expect(parseBaselineFlag('production')).toEqual({ alias: 'production' });
    expect(parseBaselineFlag('alias:champion')).toEqual({ alias: 'champion' });
    expect(parseBaselineFlag('stage:Production')).toEqual({ stage: 'Production' });
    expect(parseBaselineFlag('run:abc')).toEqual({ runId: 'abc' });
    expect(parseBaselineFlag('0123456789abcdef0123456789ABCDEF')).toEqual({ runId: '0123456789abcdef0123456789ABCDEF' });
    expect(parseBaselineFlag("filter:tags.`mlops.git.branch` = 'main'")).toEqual({ filter: "tags.`mlops.git.branch` = 'main'" });
  });
  it('rejects what it cannot read, as bad input', () => {
    for (const bad of ['', 'alias:', 'models:/x@y', "tags.branch = 'main'"]) {
      const err = (() => {
        try {
          parseBaselineFlag(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(err, bad).toBeInstanceOf(UserError);
      expect(exitCodeFor(err)).toBe(2);
    }
  });
  it('canonical stage names', () => {
    expect(canonicalStage('production')).toBe('Production');
    expect(canonicalStage('Custom')).toBe('Custom');
  });
});

describe('resolveBaseline', () => {
  const model = {
    name: 'm',
    aliases: { production: '2' },
    versions: { '1': { runId: 'r1', stage: 'Archived' }, '2': { runId: 'r2', stage: 'Production' } },
  };
  const runs = [RUN('r1', 10), RUN('r2', 20)];

  it("by alias: the aliased version's run", async () => {
    const r = await resolveBaseline({ alias: 'production' }, ctx, fake({ runs, model }).port);
    expect(r).toMatchObject({
      found: true,
      run: { info: { runId: 'r2' } },
      source: { type: 'alias', model: 'm', alias: 'production', version: '2' },
      description: 'm@production (version 2)',
    });
  });
  it('by alias: no model yet, or a model never aliased, is no baseline', async () => {
    expect(await resolveBaseline({ alias: 'production' }, ctx, fake({ runs }).port)).toMatchObject({
      found: false,
      reason: 'registered model m does not exist yet',
    });
    const bare = { ...model, aliases: {} };
    expect(await resolveBaseline({ alias: 'production' }, ctx, fake({ runs, model: bare }).port)).toMatchObject({ found: false });
  });
  it('by alias: a typo is bad input that lists the aliases', async () => {
    await expect(resolveBaseline({ alias: 'prod' }, ctx, fake({ runs, model }).port)).rejects.toThrow(
      'Registered model m has no alias "prod" (it has: production).',
    );
  });
  it('by alias: needs a model name; a version without a run is bad input', async () => {
    await expect(resolveBaseline({ alias: 'production' }, { candidate }, fake().port)).rejects.toMatchObject({
      code: 'BASELINE_MODEL_MISSING',
    });
    const noRun = { ...model, versions: { '2': {} } };
    await expect(resolveBaseline({ alias: 'production' }, ctx, fake({ runs, model: noRun }).port)).rejects.toMatchObject({
      code: 'BASELINE_NO_RUN',
    });
    await expect(resolveBaseline({ alias: 'production' }, ctx, fake({ runs: [], model }).port)).rejects.toMatchObject({
      code: 'BASELINE_RUN_NOT_FOUND',
    });
  });
  it('by stage, any capitalisation', async () => {
    const r = await resolveBaseline({ stage: 'production' }, ctx, fake({ runs, model }).port);
    expect(r).toMatchObject({ found: true, run: { info: { runId: 'r2' } }, source: { type: 'stage', stage: 'Production', version: '2' } });
    expect(await resolveBaseline({ stage: 'Staging' }, ctx, fake({ runs, model }).port)).toMatchObject({ found: false });
  });
  it("by filter: latest FINISHED match, skipping the candidate, in the candidate's experiment", async () => {
    const rs = [
      RUN('a', 1, {}, { branch: 'main' }),
      RUN('b', 2, {}, { branch: 'main' }),
      RUN('cand', 3, {}, { branch: 'main' }),
      RUN('f', 4, { status: 'FAILED' }, { branch: 'main' }),
    ];
    const f = fake({ runs: rs });
    const r = await resolveBaseline({ filter: "tags.branch = 'main'" }, ctx, f.port);
    expect(r).toMatchObject({ found: true, run: { info: { runId: 'b' } }, source: { type: 'filter', experimentId: '1' } });
    expect(f.searches[0]).toEqual(baselineSearch("tags.branch = 'main'", '1'));
    expect(f.searches[0]).toMatchObject({
      filter: "tags.branch = 'main' and attributes.status = 'FINISHED'",
      orderBy: ['attributes.start_time DESC'],
      maxResults: 2,
    });
  });
  it('by filter: none, a missing or deleted experiment is no baseline', async () => {
    expect(await resolveBaseline({ filter: "tags.branch = 'x'" }, ctx, fake({ runs }).port)).toMatchObject({ found: false });
    expect(await resolveBaseline({ filter: 'x', experiment: 'nope' }, ctx, fake().port)).toMatchObject({
      found: false,
      reason: 'experiment nope does not exist',
    });
    expect(await resolveBaseline({ filter: 'x', experiment: 'gone' }, ctx, fake().port)).toMatchObject({ found: false });
  });
  it('by run id; an unknown one is bad input', async () => {
    expect(await resolveBaseline({ runId: 'r1' }, ctx, fake({ runs }).port)).toMatchObject({ found: true, source: { type: 'run' } });
    await expect(resolveBaseline({ runId: 'zz' }, ctx, fake({ runs }).port)).rejects.toMatchObject({ code: 'BASELINE_RUN_NOT_FOUND' });
  });
});
