/**
 * Which run is the baseline: parsing `--baseline`, and the resolution rules, written against a
 * small port (the MLflow client satisfies it) so they are tested with in-memory fakes.
 *
 * - alias (default "production"): the registered model's version with that alias, and its run.
 *   No registered model yet, or a model with no alias at all, means "no baseline" (the first
 *   model: the compare.noBaseline policy applies). A model that has other aliases but not this
 *   one is bad input (a typo): exit 2, listing the aliases it has.
 * - stage (legacy): the latest version in that stage; none means "no baseline".
 * - filter: the latest FINISHED run (by start time) matching the filter in the experiment
 *   (compare.baseline.experiment, else the candidate's own experiment), never the candidate
 *   itself; none means "no baseline".
 * - runId: that run; a run that does not exist is bad input.
 */
import { UserError } from './errors.js';
import type { BaselinePort, RunLike } from './ports.js';
export type { BaselinePort, RunLike } from './ports.js';

export type BaselineSpec = { alias: string } | { stage: string } | { filter: string; experiment?: string } | { runId: string };

export type BaselineSource =
  | { type: 'alias'; model: string; alias: string; version: string }
  | { type: 'stage'; model: string; stage: string; version: string }
  | { type: 'filter'; experimentId: string; filter: string }
  | { type: 'run' };

export type BaselineResolution =
  { found: true; run: RunLike; source: BaselineSource; description: string } | { found: false; reason: string; description: string };

export interface BaselineContext {
  /** mlflow.registeredModel (or the project name): needed for alias and stage. */
  registeredModel?: string;
  /** Experiment name a filter searches when the spec names none (default: the candidate's experiment). */
  experiment?: string;
  candidate: { runId: string; experimentId: string };
}

const RUN_ID = /^[0-9a-f]{32}$/i;
const STAGES = ['None', 'Staging', 'Production', 'Archived'];

/**
 * Parses `--baseline`: `alias:NAME`, `stage:NAME`, `run:ID`, `filter:EXPR`; a bare 32-hex id is a
 * run id, any other bare word an alias (`--baseline production`).
 */
export function parseBaselineFlag(value: string): BaselineSpec {
  const v = value.trim();
  const m = /^(alias|stage|run|runId|filter):(.*)$/s.exec(v);
  if (m) {
    const arg = m[2].trim();
    if (!arg) throw badFlag(value, `nothing after "${m[1]}:"`);
    switch (m[1]) {
      case 'alias':
        return { alias: arg };
      case 'stage':
        return { stage: arg };
      case 'filter':
        return { filter: arg };
      default:
        return { runId: arg };
    }
  }
  if (!v) throw badFlag(value, 'it is empty');
  if (/^[a-z]+:/i.test(v) && !RUN_ID.test(v)) throw badFlag(value, `unknown kind "${v.split(':')[0]}"`);
  if (RUN_ID.test(v)) return { runId: v };
  if (/\s|=/.test(v)) throw badFlag(value, 'it looks like a filter');
  return { alias: v };
}

function badFlag(value: string, why: string): UserError {
  return new UserError('BASELINE_FLAG_INVALID', `--baseline "${value}" is not understood: ${why}.`, {
    hint: 'Use --baseline production (an alias), alias:NAME, stage:Production, run:RUN_ID or "filter:tags.`mlops.git.branch` = \'main\'".',
  });
}

/** The spec for people: `alias "production" of model m`. */
export function describeBaselineSpec(spec: BaselineSpec, ctx: Pick<BaselineContext, 'registeredModel'> = {}): string {
  if ('alias' in spec) return `alias "${spec.alias}"${ctx.registeredModel ? ` of model ${ctx.registeredModel}` : ''}`;
  if ('stage' in spec) return `stage "${spec.stage}"${ctx.registeredModel ? ` of model ${ctx.registeredModel}` : ''}`;
  if ('filter' in spec) return `latest FINISHED run matching ${spec.filter}`;
  return `run ${spec.runId}`;
}

/** MLflow's canonical stage spelling ("production" -> "Production"). */
export function canonicalStage(stage: string): string {
  return STAGES.find((s) => s.toLowerCase() === stage.toLowerCase()) ?? stage;
}

/** The search for a filter baseline: the user's filter plus FINISHED, newest first, two rows (one may be the candidate). */
export function baselineSearch(
  filter: string,
  experimentId: string,
): { experimentIds: string[]; filter: string; orderBy: string[]; maxResults: number } {
  return {
    experimentIds: [experimentId],
    filter: `${filter.trim()} and attributes.status = 'FINISHED'`,
    orderBy: ['attributes.start_time DESC'],
    maxResults: 2,
  };
}

function requireModel(ctx: BaselineContext, what: string): string {
  if (!ctx.registeredModel) {
    throw new UserError('BASELINE_MODEL_MISSING', `A baseline by ${what} needs a registered model name.`, {
      hint: 'Set mlflow.registeredModel (or project) in the config, or use --baseline run:ID / filter:EXPR.',
    });
  }
  return ctx.registeredModel;
}

async function runOfVersion(
  port: BaselinePort,
  model: string,
  version: { version: string; runId?: string },
  what: string,
): Promise<RunLike> {
  if (!version.runId) {
    throw new UserError('BASELINE_NO_RUN', `Model ${model} version ${version.version} (${what}) has no MLflow run to take metrics from.`, {
      hint: 'Register versions from runs (mlops train does), or compare against --baseline run:ID.',
    });
  }
  const run = await port.getRun(version.runId);
  if (!run) {
    throw new UserError(
      'BASELINE_RUN_NOT_FOUND',
      `Run ${version.runId} of model ${model} version ${version.version} (${what}) no longer exists.`,
      {
        hint: 'Point the alias at a version whose run exists, or use --baseline run:ID.',
      },
    );
  }
  return run;
}

/** Finds the baseline run, or says why there is none. Throws UserError for bad input. */
export async function resolveBaseline(spec: BaselineSpec, ctx: BaselineContext, port: BaselinePort): Promise<BaselineResolution> {
  const description = describeBaselineSpec(spec, ctx);
  if ('alias' in spec) {
    const model = requireModel(ctx, `alias "${spec.alias}"`);
    const found = await port.getModelVersionByAlias(model, spec.alias);
    if (!found.found) {
      if (found.reason === 'model-not-found') {
        return { found: false, reason: `registered model ${model} does not exist yet`, description };
      }
      const registered = await port.getRegisteredModel(model);
      const aliases = Object.keys(registered?.aliases ?? {}).sort();
      if (aliases.length > 0) {
        throw new UserError(
          'BASELINE_ALIAS_NOT_FOUND',
          `Registered model ${model} has no alias "${spec.alias}" (it has: ${aliases.join(', ')}).`,
          {
            hint: 'Check the spelling in compare.baseline or --baseline; aliases are case-sensitive.',
            details: { model, alias: spec.alias, aliases },
          },
        );
      }
      return { found: false, reason: `registered model ${model} has no alias "${spec.alias}" yet (no version was promoted)`, description };
    }
    const v = found.version;
    const run = await runOfVersion(port, model, v, `alias "${spec.alias}"`);
    return {
      found: true,
      run,
      source: { type: 'alias', model, alias: spec.alias, version: v.version },
      description: `${model}@${spec.alias} (version ${v.version})`,
    };
  }
  if ('stage' in spec) {
    const model = requireModel(ctx, `stage "${spec.stage}"`);
    const stage = canonicalStage(spec.stage);
    const versions = (await port.getLatestVersions(model, [stage])).filter((v) => !v.currentStage || v.currentStage === stage);
    const latest = versions.sort((a, b) => Number(b.version) - Number(a.version))[0];
    if (!latest) return { found: false, reason: `no version of ${model} is in stage ${stage}`, description };
    const run = await runOfVersion(port, model, latest, `stage ${stage}`);
    return {
      found: true,
      run,
      source: { type: 'stage', model, stage, version: latest.version },
      description: `${model} stage ${stage} (version ${latest.version})`,
    };
  }
  if ('filter' in spec) {
    const expName = spec.experiment ?? ctx.experiment;
    let experimentId = ctx.candidate.experimentId;
    if (expName) {
      const exp = await port.getExperimentByName(expName);
      if (!exp || exp.lifecycleStage === 'deleted') return { found: false, reason: `experiment ${expName} does not exist`, description };
      experimentId = exp.experimentId;
    }
    const res = await port.searchRuns(baselineSearch(spec.filter, experimentId));
    const run = res.runs.find((r) => r.info.runId !== ctx.candidate.runId);
    if (!run) return { found: false, reason: `no FINISHED run other than the candidate matches ${spec.filter}`, description };
    return {
      found: true,
      run,
      source: { type: 'filter', experimentId, filter: spec.filter },
      description: `latest FINISHED run matching ${spec.filter} (${run.info.runName ?? run.info.runId})`,
    };
  }
  const run = await port.getRun(spec.runId);
  if (!run) {
    throw new UserError('BASELINE_RUN_NOT_FOUND', `Baseline run ${spec.runId} does not exist in MLflow.`, {
      hint: 'Check the run id (the MLflow UI shows it on the run page), or use --baseline production.',
    });
  }
  return { found: true, run, source: { type: 'run' }, description: `run ${run.info.runName ?? spec.runId}` };
}
