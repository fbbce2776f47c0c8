/**
 * Fuzzing the two readers of outside input (issue 17): the config loader and the capture reader
 * get random and mutated inputs, and must answer every one with a result, a listed problem, a
 * UserError/ExternalError, or a counted bad line; never an internal error. Bounded (a fixed number
 * of inputs) and reproducible: the seed is printed on failure; MLOPS_FUZZ_SEED=<n> replays it.
 */
import { describe, expect, it } from 'vitest';
import { decodeConfig } from '../../src/config/load.js';
import { parseConfigText } from '../../src/config/parse.js';
import { validateConfig } from '../../src/config/validate.js';
import { CaptureLineError, decodeRecord, type CaptureRecord } from '../../src/core/capture.js';
import { LiveSummary } from '../../src/core/drift/evaluate.js';
import { ProfileBuilder } from '../../src/core/drift/profile.js';
import { scanCapture } from '../../src/core/drift/scan.js';
import { MlopsError } from '../../src/core/errors.js';
import { EXAMPLE, mutateText, randomValue, rng, SCALARS, SMALL } from '../support/fuzz-inputs.js';

const SEED = Number(process.env.MLOPS_FUZZ_SEED ?? 20261130);
const INPUTS = 1000; // per reader: 2,000 in all, a few seconds

/** Runs the check; on failure, says which input (and seed) broke it. */
function expectNoInternalError(what: string, input: unknown, run: () => void): void {
  try {
    run();
  } catch (err) {
    const expected = err instanceof MlopsError && (err.source === 'user' || err.source === 'external');
    if (!expected) {
      throw new Error(
        `${what} failed on ${JSON.stringify(input).slice(0, 300)} (seed ${SEED}; replay with MLOPS_FUZZ_SEED=${SEED}): ${String(err)}`,
        {
          cause: err,
        },
      );
    }
  }
}

describe(`fuzz (seed ${SEED})`, () => {
  it(`the config loader: ${INPUTS} random and mutated inputs, no internal error`, () => {
    const r = rng(SEED);
    const env = { SECRET: 's3cr3t', X: '' };
    for (let i = 0; i < INPUTS; i++) {
      const kind = r.int(4);
      if (kind === 3) {
        const value = randomValue(r);
        expectNoInternalError('validateConfig', value, () => {
          const out = validateConfig(value);
          expect(out.config !== undefined || out.problems.length > 0).toBe(true);
        });
        continue;
      }
      const text =
        kind === 2
          ? Array.from({ length: r.int(200) }, () => String.fromCharCode(r.int(0x500))).join('')
          : mutateText(r, r.pick([EXAMPLE, SMALL]));
      const bytes = Buffer.from(text, 'utf8');
      if (r.next() < 0.2) bytes[r.int(bytes.length)] = 0x80 + r.int(0x80); // an invalid UTF-8 byte, sometimes
      expectNoInternalError('the config loader', text, () => {
        const decoded = decodeConfig(bytes);
        if ('problem' in decoded) return;
        const out = parseConfigText(decoded.text, '/repo/mlops.config.yaml', env);
        expect(out.config !== undefined || out.problems.length > 0).toBe(true);
        for (const p of out.problems) expect(typeof p.message).toBe('string');
      });
    }
  });

  it(`the capture reader: ${INPUTS} random and mutated lines, each read or counted as bad with its reason`, async () => {
    const r = rng(SEED + 1);
    const b = new ProfileBuilder({ outputs: ['y'] });
    b.setColumns(['x', 'c', 'y']);
    for (let i = 0; i < 200; i++) b.addRow([String(i % 50), ['p', 'q'][i % 2], String(i % 3)]);
    const profile = b.finish();
    const layout = { inputWidth: 2, outputWidth: 1, names: new Set(['x', 'c', 'y']) };
    const payloads = [
      { observedContentType: 'text/csv', mode: 'INPUT', data: '1,p', encoding: 'CSV' },
      { observedContentType: 'application/json', mode: 'INPUT', data: '{"instances":[[1,"p"],[2,"q"]]}', encoding: 'JSON' },
      { observedContentType: 'application/json', mode: 'INPUT', data: Buffer.from('[[1,"p"]]').toString('base64'), encoding: 'BASE64' },
      { observedContentType: 'text/csv', mode: 'OUTPUT', data: '0.5', encoding: 'CSV' },
      { observedContentType: 'application/json', mode: 'OUTPUT', data: '{"predictions":[0.5]}', encoding: 'JSON' },
    ];
    const lines: string[] = [];
    for (let i = 0; i < INPUTS; i++) {
      const rec = {
        captureData: { endpointInput: { ...r.pick(payloads) }, endpointOutput: { ...r.pick(payloads) } } as Record<
          string,
          Record<string, unknown>
        >,
        eventMetadata: { eventId: String(i), inferenceTime: '2026-11-26T10:00:00Z' },
      };
      // Mutate the record's structure, then (sometimes) its text.
      if (r.next() < 0.5)
        rec.captureData[r.pick(['endpointInput', 'endpointOutput'])][r.pick(['data', 'encoding', 'observedContentType'])] = r.pick(SCALARS);
      if (r.next() < 0.1) (rec as Record<string, unknown>).captureData = r.pick(SCALARS);
      let line = r.next() < 0.1 ? JSON.stringify(randomValue(r)) : JSON.stringify(rec);
      if (r.next() < 0.3) line = mutateText(r, line).replace(/\n/g, ' ');
      lines.push(line);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue; // counted as "not JSON" by the scan below
      }
      try {
        decodeRecord(parsed as CaptureRecord, layout);
      } catch (err) {
        if (!(err instanceof CaptureLineError)) {
          throw new Error(
            `decodeRecord failed on ${line.slice(0, 300)} (seed ${SEED}; replay with MLOPS_FUZZ_SEED=${SEED}): ${String(err)}`,
            { cause: err },
          );
        }
      }
    }
    const live = new LiveSummary(profile);
    const stats = await scanCapture(
      (async function* () {
        yield { source: 'fuzz', lines };
      })(),
      live,
    );
    const counted = Object.values(stats.badReasons).reduce((a, n) => a + (n ?? 0), 0);
    expect(counted, `seed ${SEED}`).toBe(stats.bad);
    expect(stats.records + stats.bad + stats.outsideWindow, `seed ${SEED}`).toBe(stats.lines);
    expect(stats.badExamples.join('\n'), `seed ${SEED}`).not.toMatch(/is not a function|Cannot read properties|is not iterable/);
  });
});
