/**
 * The CI files `mlops init` writes, read as data: what a platform engineer checks before merging
 * them (pinned actions, current Node, caches, one lock-free path to the endpoint, least permission,
 * OIDC on GitLab, the MR report widgets). actionlint and the rendered scaffold are checked in
 * test/integration/init.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SCAFFOLD, templatesDir } from '../../src/commands/init.js';
import { placeholdersOf, renderTemplate } from '../../src/core/template.js';

const TEMPLATES = templatesDir();
/** The template as init renders it (every placeholder filled, so it parses as the YAML a user gets). */
const text = (template: string) => {
  const raw = readFileSync(path.join(TEMPLATES, template), 'utf8');
  return renderTemplate(raw, Object.fromEntries(placeholdersOf(raw).map((p) => [p, p === 'version' ? '9.8.7' : `${p.toLowerCase()}-1`])));
};
// The workflow files (the GitHub OIDC trust policy is written for --ci github too, but holds no steps).
const githubTemplates = SCAFFOLD.filter((f) => f.ci === 'github' && f.template.startsWith('github/')).map((f) => f.template);

interface Step {
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface GithubJob {
  if?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean | string };
  steps: Step[];
}
interface Workflow {
  permissions?: Record<string, string>;
  env: Record<string, string>;
  jobs: Record<string, GithubJob>;
}

const workflow = () => parse(text('github/mlops.yml')) as Workflow;
const runs = (job: GithubJob, command: RegExp) => job.steps.some((s) => s.run !== undefined && command.test(s.run));

describe('generated GitHub workflow', () => {
  it('pins every action by a full commit SHA, with the version in a comment', () => {
    expect(githubTemplates.length).toBeGreaterThan(0);
    for (const template of githubTemplates) {
      const uses = text(template)
        .split('\n')
        .filter((l) => /^\s*(-\s+)?uses:/.test(l));
      expect(uses.length, template).toBeGreaterThan(0);
      const pinned = new Map<string, string>();
      for (const line of uses) {
        const m = /uses:\s*([\w.-]+\/[\w./-]+)@([0-9a-f]{40})\s+#\s*v\d+\.\d+\.\d+\s*$/.exec(line);
        expect(m, `${template}: not pinned by commit with its version: ${line.trim()}`).not.toBeNull();
        // One action, one commit: a file half bumped by hand is a mistake.
        const [, action, sha] = m!;
        expect(pinned.get(action) ?? sha, `${template}: ${action} pinned to two commits`).toBe(sha);
        pinned.set(action, sha);
      }
    }
  });

  it('uses the current Node LTS, caches pip, npm and the DVC cache (keyed on dvc.lock)', () => {
    const wf = workflow();
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
    const nodes = steps.filter((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(nodes.length).toBe(Object.keys(wf.jobs).length);
    for (const s of nodes) expect(s.with?.['node-version']).toBe(26);
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-python@'))?.with?.cache).toBe('pip');
    const caches = steps.filter((s) => s.uses?.startsWith('actions/cache@'));
    expect(caches.find((s) => s.with?.path === '.dvc/cache')?.with?.key).toContain("hashFiles('dvc.lock')");
    // Every job runs npx: every job restores the npm cache, keyed on the pinned mlops version.
    const npm = caches.filter((s) => s.with?.path === '~/.npm');
    expect(npm).toHaveLength(Object.keys(wf.jobs).length);
    for (const s of npm) expect(s.with?.key).toContain('env.MLOPS');
  });

  it('every job that can promote shares one concurrency group and never cancels a running one', () => {
    const wf = workflow();
    const promoting = Object.entries(wf.jobs).filter(([, j]) => runs(j, / promote\b/));
    expect(promoting.map(([name]) => name).sort()).toEqual(['advance', 'deploy']);
    const groups = new Set(promoting.map(([, j]) => j.concurrency?.group));
    expect(groups.size).toBe(1);
    expect([...groups][0]).not.toContain('${{');
    for (const [, j] of promoting) expect(j.concurrency?.['cancel-in-progress']).toBe(false);
  });

  it('deploys from main behind the production environment, the run the gate passed', () => {
    const wf = workflow();
    const deploy = wf.jobs.deploy;
    expect(deploy.environment).toBe('production');
    expect(deploy.needs).toBe('model');
    expect(deploy.if).toContain('refs/heads/main');
    const promote = deploy.steps.find((s) => s.run?.includes(' promote'))!;
    expect(promote.run).toContain('--run "$CANDIDATE_RUN_ID"');
    expect(promote.env?.CANDIDATE_RUN_ID).toBe('${{ needs.model.outputs.candidate-run-id }}');
    expect(wf.jobs.model.steps.find((s) => s.run?.includes(' compare'))).toMatchObject({ id: 'compare' });
    expect(runs(wf.jobs.model, / promote\b/)).toBe(false);
    // Drift is watched even when advancing failed.
    const monitor = wf.jobs.advance.steps.find((s) => s.run?.includes(' monitor'))!;
    expect(monitor.if).toMatch(/always\(\)|!cancelled\(\)/);
  });

  it('grants least permission: nothing by default, pull-requests: write only where the comment is posted', () => {
    const wf = workflow();
    expect(wf.permissions).toEqual({});
    for (const [name, job] of Object.entries(wf.jobs)) {
      const comments = runs(job, / compare\b.*--comment/);
      expect(job.permissions?.['pull-requests'], name).toBe(comments ? 'write' : undefined);
      if (comments) expect(job.steps.find((s) => s.run?.includes('--comment'))?.env?.GITHUB_TOKEN).toBe('${{ github.token }}');
    }
    expect(Object.values(wf.jobs).filter((j) => j.permissions?.['pull-requests'])).toHaveLength(1);
  });

  it('reads MLFLOW_TRACKING_URI from a variable, not a secret (a secret masks every MLflow link)', () => {
    const wf = workflow();
    expect(wf.env.MLFLOW_TRACKING_URI).toBe('${{ vars.MLFLOW_TRACKING_URI }}');
    expect(wf.env.MLFLOW_TRACKING_TOKEN).toBe('${{ secrets.MLFLOW_TRACKING_TOKEN }}');
  });
});

interface GitlabJob {
  extends?: string;
  stage?: string;
  image?: string;
  script?: string[];
  before_script?: string[];
  rules?: { if: string; when?: string }[];
  resource_group?: string;
  id_tokens?: Record<string, { aud: string }>;
  variables?: Record<string, string>;
  environment?: { name: string };
  cache?: { key: string | { files: string[] }; paths: string[] }[];
  artifacts?: { when?: string; paths?: string[]; reports?: Record<string, string> };
}

describe('generated GitLab CI file', () => {
  const doc = () => parse(text('gitlab-ci.yml'), { uniqueKeys: true }) as Record<string, GitlabJob>;
  /** A job with what it extends merged in, as GitLab does (hashes deep, everything else replaced). */
  const resolved = (name: string): GitlabJob => {
    const all = doc();
    const job = all[name];
    if (!job.extends) return job;
    const base = resolved(job.extends);
    return { ...base, ...job, variables: { ...base.variables, ...job.variables } };
  };
  const jobs = () => Object.keys(doc()).filter((k) => !k.startsWith('.') && !['workflow', 'stages', 'variables'].includes(k));

  it('uses the current Node LTS in every image', () => {
    for (const name of jobs()) expect(resolved(name).image, name).toMatch(/^node:26$|nodejs26/);
  });

  it('gets AWS credentials by OIDC: an id_token for STS and the role to assume, in every job', () => {
    for (const name of jobs()) {
      const job = resolved(name);
      expect(job.id_tokens?.AWS_ID_TOKEN?.aud, name).toBe('sts.amazonaws.com');
      expect(job.variables?.AWS_ROLE_ARN, name).toMatch(/^\$AWS_(DATA|DEPLOY)_ROLE_ARN$/);
      expect(job.variables?.AWS_WEB_IDENTITY_TOKEN_FILE, name).toBeTruthy();
      expect(job.before_script?.join('\n'), name).toContain('> "$AWS_WEB_IDENTITY_TOKEN_FILE"');
    }
    expect(resolved('model').variables?.AWS_ROLE_ARN).toBe('$AWS_DATA_ROLE_ARN');
  });

  it('one resource group for every job that touches the endpoint; promote in the production environment', () => {
    const touching = jobs().filter((n) => /promote|monitor/.test(resolved(n).script!.join('\n')));
    expect(touching.sort()).toEqual(['advance', 'monitor', 'promote']);
    expect(new Set(touching.map((n) => resolved(n).resource_group))).toEqual(new Set(['mlops-endpoint']));
    for (const n of touching) expect(resolved(n).variables?.AWS_ROLE_ARN).toBe('$AWS_DEPLOY_ROLE_ARN');
    expect(resolved('promote').environment?.name).toBe('production');
  });

  it('monitors on schedules even when advancing failed', () => {
    const monitor = resolved('monitor');
    const advance = resolved('advance');
    expect(monitor.script!.join('\n')).toContain(' monitor');
    expect(monitor.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "schedule"', when: 'always' }]);
    const stages = (parse(text('gitlab-ci.yml')) as { stages: string[] }).stages;
    expect(stages.indexOf(monitor.stage!)).toBeGreaterThan(stages.indexOf(advance.stage!));
  });

  // The paths compare writes by default under GitLab CI (test/integration/compare-ci.test.ts).
  it('declares the JUnit and metrics reports compare writes on GitLab, and caches pip, npm and DVC', () => {
    const model = resolved('model');
    expect(model.script!.join('\n')).toContain('compare --comment');
    expect(model.artifacts).toMatchObject({
      when: 'always',
      reports: { junit: '.mlops/compare-junit.xml', metrics: '.mlops/compare-metrics.txt' },
    });
    const keyed = (file: string) => model.cache!.find((c) => typeof c.key === 'object' && c.key.files.includes(file));
    expect(keyed('dvc.lock')?.paths).toEqual(['.dvc/cache']);
    expect(keyed('requirements.txt')?.paths).toEqual(['.cache/pip']);
    expect(model.cache!.find((c) => c.paths.includes('.cache/npm'))?.key).toBe('mlops-npm-9.8.7');
  });
});
