/**
 * `mlops compare`: the candidate run against the production baseline in MLflow. Prints the table,
 * writes the Markdown report (compare.report, and $GITHUB_STEP_SUMMARY under GitHub Actions), the
 * CI outputs (step outputs, one annotation per failed gate, GitLab's JUnit and metrics reports),
 * optionally the sticky PR/MR comment, and exits 1 on any regression (returned as exitCode, not
 * thrown) or a candidate run that did not finish, 2 on bad input, 3 when MLflow fails. Commenting
 * never changes the exit code.
 */
import path from 'node:path';
import type { CommandRun } from '../cli/context.js';
import { CheckFailedError, UserError } from '../core/errors.js';
import { mlflowFromConfig, type MlflowClient, type Run } from '../adapters/mlflow.js';
import { gateAudit } from '../app/gate-audit.js';
import { lastRunPath, readLastRun } from '../app/last-run.js';
import { describeBaselineSpec, parseBaselineFlag, resolveBaseline, type BaselineSpec } from '../core/baseline.js';
import type { CompareResult, RunRef } from '../core/compare-report.js';
import { registeredModelName } from '../core/production-model.js';

function ref(client: MlflowClient, run: { info: { runId: string; experimentId: string; runName?: string } }): RunRef {
  return {
    runId: run.info.runId,
    experimentId: run.info.experimentId,
    runName: run.info.runName,
    url: client.runUrl(run.info.runId, run.info.experimentId),
  };
}

export const run: CommandRun<'compare'> = async (ctx, _args, opts) => {
  const { io } = ctx;
  const { config, root, filepath } = await ctx.loadConfig();
  const spec: BaselineSpec = typeof opts.baseline === 'string' ? parseBaselineFlag(opts.baseline) : config.compare.baseline;
  const policy = opts.ifNoBaseline ?? config.compare.noBaseline;
  const recorded = typeof opts.run === 'string' && opts.run ? { runId: opts.run.trim() } : await readLastRun(root);
  if (!recorded) {
    throw new UserError('CANDIDATE_MISSING', `No candidate run: ${lastRunPath(root)} does not exist.`, {
      hint: 'Run `mlops train` first (it records its run there), or pass the run to compare with --run RUN_ID.',
    });
  }
  const retriesSaid = new Set<number>();
  const client = await mlflowFromConfig(config, ctx.env, {
    signal: ctx.signal,
    // Two lookups run at once and retry alike: say it once per attempt.
    onRetry: (r) => {
      if (retriesSaid.has(r.attempt)) return;
      retriesSaid.add(r.attempt);
      io.info(io.style('dim', `${r.reason} Retry ${r.attempt}/${config.mlflow.retries} in ${r.delayMs} ms.`));
    },
  });
  // The production model's name by the one rule (src/core/production-model.ts); a baseline by
  // alias or stage without one is a UserError from resolveBaseline.
  const registeredModel = registeredModelName(config);

  const getCandidate = async (): Promise<Run> => {
    const found = await client.getRun(recorded.runId);
    if (!found) {
      throw new UserError('CANDIDATE_NOT_FOUND', `Candidate run ${recorded.runId} does not exist in MLflow at ${client.baseUrl}.`, {
        hint: opts.run ? 'Check the --run id.' : 'Run `mlops train` again (the recorded run is gone), or pass --run RUN_ID.',
      });
    }
    return found;
  };
  const resolve = (experimentId: string) =>
    resolveBaseline(spec, { registeredModel, candidate: { runId: recorded.runId, experimentId } }, client);

  // Both lookups run at once unless a filter needs the candidate's experiment and only the
  // candidate run can tell it (--run without last-run.json).
  const knownExperiment = 'experimentId' in recorded ? recorded.experimentId : undefined;
  const needsExperiment = 'filter' in spec && !spec.experiment;
  // A lookup that waits on another's answer (an alias's or a stage's run, a search in a named or
  // the candidate's experiment) gets a connection opened while the first answers are awaited.
  if (!('runId' in spec) && !(needsExperiment && knownExperiment)) client.preconnect();
  const lookups: Promise<[Run, Awaited<ReturnType<typeof resolve>>]> =
    knownExperiment || !needsExperiment
      ? Promise.all([getCandidate(), resolve(knownExperiment ?? '')])
      : getCandidate().then(async (c) => [c, await resolve(c.info.experimentId)]);
  // What judges and reports is loaded while MLflow answers, not before the requests or after them.
  const verdictCode = Promise.all([import('../core/gates.js'), import('../core/compare-report.js'), import('../adapters/report-file.js')]);
  const [candidate, baseline] = await lookups;
  if (candidate.info.status !== 'FINISHED') {
    // A run that did not finish has no result to compare: that is not a regression (the word is
    // kept for metrics that got worse), but the check still says no.
    const { runId, experimentId, runName } = candidate.info;
    const url = client.runUrl(runId, experimentId);
    await gateAudit(
      ctx,
      config,
    )({
      kind: 'gate',
      action: 'compare.failed',
      details: {
        candidate: { runId, experimentId, runName: runName ?? null },
        status: candidate.info.status,
        reason: 'candidate run did not finish',
      },
    });
    throw new CheckFailedError(
      'CANDIDATE_NOT_FINISHED',
      `Candidate run ${runId} is ${candidate.info.status}: it did not finish, so its metrics were not compared. ${url}`,
      {
        hint: 'See the run in MLflow for why; fix the training and run `mlops train` again, or pass --run with a FINISHED run.',
        details: { runId, status: candidate.info.status, url },
      },
    );
  }
  if (baseline.found && baseline.run.info.runId === candidate.info.runId) {
    io.warn(`The baseline (${baseline.description}) is the candidate run itself.`);
  }

  const [
    { evaluateGates },
    { commentMarker, renderJunit, renderMarkdown, renderMetricsReport, renderTable },
    { failureWithResult, writeReportFile },
  ] = await verdictCode;
  const evaluation = evaluateGates({
    gates: config.compare.gates,
    candidate: candidate.data.metrics,
    baseline: baseline.found ? baseline.run.data.metrics : undefined,
    noBaseline: policy,
  });
  const result: CompareResult = {
    verdict: evaluation.verdict,
    candidate: ref(client, candidate),
    baseline: baseline.found ? { ...ref(client, baseline.run), description: baseline.description, source: baseline.source } : null,
    noBaseline: baseline.found ? undefined : { policy, reason: baseline.reason, spec: describeBaselineSpec(spec, { registeredModel }) },
    gates: evaluation.gates,
    others: evaluation.others,
    failed: evaluation.failed,
    warnings: evaluation.warnings,
    compareUrl: baseline.found ? client.compareRunsUrl([candidate.info, baseline.run.info]) : undefined,
  };
  for (const w of result.warnings) io.warn(w);

  const markdown = renderMarkdown(result);
  // A file that cannot be written is exit 3 after the verdict is printed (never an internal error).
  const notWritten: Awaited<ReturnType<typeof writeReportFile>>[] = [];
  const write = async (file: string, text: string, what: string) => {
    const failure = await writeReportFile(file, io.redactor.redact(text), { what });
    if (failure) notWritten.push(failure);
    return !failure;
  };
  // A flag's path is the working directory's, a config path the config folder's (as everywhere).
  const reportPath = typeof opts.report === 'string' ? path.resolve(ctx.cwd, opts.report) : path.resolve(root, config.compare.report);
  if (await write(reportPath, markdown, 'report')) io.debug(`report written to ${reportPath}`);
  if (io.stepSummary(markdown)) io.debug('report appended to $GITHUB_STEP_SUMMARY');
  if (
    io.githubOutput({
      verdict: result.verdict,
      'candidate-run-id': result.candidate.runId,
      'baseline-run-id': result.baseline?.runId ?? '',
    })
  ) {
    io.debug('verdict and run ids written to $GITHUB_OUTPUT');
  }
  const gitlab = ctx.env.GITLAB_CI === 'true';
  const junit = config.compare.junitReport ?? (gitlab ? '.mlops/compare-junit.xml' : undefined);
  const metrics = config.compare.metricsReport ?? (gitlab ? '.mlops/compare-metrics.txt' : undefined);
  const project = config.project ?? path.basename(root);
  if (junit) await write(path.resolve(root, junit), renderJunit(result, `mlops compare: ${project}`), 'JUnit report');
  if (metrics) await write(path.resolve(root, metrics), renderMetricsReport(result), 'metrics report');

  const failedGates = result.gates.flatMap((g, i) => (g.verdict === 'fail' ? [{ g, i }] : []));
  if (io.githubActions && failedGates.length) {
    // One annotation per failed gate, on the gate's own entry in the config file.
    const { configLines } = await import('../config/positions.js');
    const lines = configLines(
      filepath,
      failedGates.map(({ i }) => `compare.gates[${i}]`),
    );
    const file = path.relative(ctx.env.GITHUB_WORKSPACE || root, filepath) || path.basename(filepath);
    failedGates.forEach(({ g }, k) => {
      const numbers = `baseline ${g.baseline ?? 'missing'}, candidate ${g.candidate ?? 'missing'}`;
      io.annotate('error', `${g.metric}: ${g.reasons.join('; ')} (${numbers})`, {
        file,
        line: lines[k],
        title: `mlops compare: ${g.metric} regressed`,
      });
    });
  }

  if (opts.comment ?? config.compare.comment) {
    const { pullRequestComments } = await import('../adapters/pr-comment.js');
    const comments = pullRequestComments(ctx.env, {
      tokenVariable: config.compare.commentToken,
      signal: ctx.signal,
      debug: (m) => io.debug(m),
    });
    if ('skipped' in comments) {
      io.info(`notice: no pull/merge request comment: ${comments.skipped}.`);
    } else {
      const marker = commentMarker(project);
      const bodyOf = (md: string) => `${marker}\n${io.redactor.redact(md)}`;
      let body = bodyOf(markdown);
      // Too long for the provider (thousands of metrics): the gates only, then a cut.
      if (body.length > comments.maxBodyLength) body = bodyOf(renderMarkdown(result, { brief: true }));
      if (body.length > comments.maxBodyLength)
        body = `${body.slice(0, comments.maxBodyLength - 200)}\n\n_(cut: see the full report in the job)_\n`;
      const outcome = await comments.upsert(marker, body);
      if (outcome.status === 'failed') io.warn(`Could not comment on ${comments.target}: ${outcome.reason}. The gate's verdict stands.`);
      else io.info(`Comment ${outcome.status} on ${comments.target}${outcome.url ? `: ${outcome.url}` : ''}`);
    }
  }

  await gateAudit(
    ctx,
    config,
  )({
    kind: 'gate',
    action: `compare.${result.verdict === 'fail' ? 'failed' : 'passed'}`,
    details: {
      candidate: { runId: result.candidate.runId, experimentId: result.candidate.experimentId, runName: result.candidate.runName ?? null },
      baseline: result.baseline
        ? { runId: result.baseline.runId, description: result.baseline.description, source: result.baseline.source }
        : { found: false, ...result.noBaseline },
      gates: result.gates,
      failed: result.failed,
    },
  });

  if (result.verdict === 'fail') {
    const msg = `Regression: ${result.failed} of ${result.gates.length} gate(s) failed.`;
    // Under GitHub Actions each failed gate has its own annotation already: no generic one besides.
    if (io.githubActions) io.info(`${io.style('red', 'error:')} ${msg}`);
    else io.error(msg);
  }
  const data = { ok: result.verdict === 'pass', ...result, report: reportPath };
  const text = renderTable(result, (style, t) => io.styleOut(style, t));
  const failure = notWritten.find((f) => f !== undefined);
  if (failure) {
    // The verdict is printed before the failure to write a file (exit 3) is reported.
    if (!io.json) io.result(data, text);
    throw failureWithResult(failure, data);
  }
  return { data, text, exitCode: result.verdict === 'fail' ? 1 : 0 };
};
