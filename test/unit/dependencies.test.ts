import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface Lock {
  packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } }>;
}
const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as Lock;
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
  engines: { node: string };
};

/** Every installed version of each package whose name matches, from the lockfile. */
function versionsOf(match: RegExp): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [where, entry] of Object.entries(lock.packages)) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(where)?.[1];
    if (!name || !match.test(name) || !entry.version) continue;
    if (!out.has(name)) out.set(name, new Set());
    out.get(name)!.add(entry.version);
  }
  return out;
}

describe('dependencies', () => {
  it('one AWS SDK: every @aws-sdk and @smithy package is installed in exactly one version', () => {
    const versions = versionsOf(/^@(aws-sdk|smithy)\//);
    expect(versions.size).toBeGreaterThan(4);
    const duplicated = [...versions].filter(([, v]) => v.size > 1).map(([name, v]) => `${name}@${[...v].join(',')}`);
    expect(duplicated).toEqual([]);
  });

  it('the package installs nothing: scripts/build.mjs bundles every library into dist/, so they are devDependencies', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it('every package, the bundled ones included, is pinned to an exact version', () => {
    const ranged = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies }).filter(([, v]) => !/^\d+\.\d+\.\d+$/.test(v));
    expect(ranged).toEqual([]);
  });

  it('every locked package supports the oldest Node mlops supports (npm ci warns EBADENGINE otherwise)', () => {
    const floor = semver.minVersion(pkg.engines.node)!.version;
    expect(floor).toBe('20.19.0');
    const refusing = Object.entries(lock.packages)
      .filter(([where, entry]) => where !== '' && entry.engines?.node && !semver.satisfies(floor, entry.engines.node))
      .map(([where, entry]) => `${where} (${entry.engines!.node})`);
    expect(refusing).toEqual([]);
  });
});
