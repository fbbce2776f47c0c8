/** Bad capture lines are skipped with a reason and a count of their own (issue 17). */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localCaptureLines } from '../../src/adapters/capture-source.js';
import { MAX_CAPTURE_LINE_BYTES } from '../../src/core/capture.js';
import { LiveSummary } from '../../src/core/drift/evaluate.js';
import { ProfileBuilder } from '../../src/core/drift/profile.js';
import { scanCapture } from '../../src/core/drift/scan.js';

function profile() {
  const b = new ProfileBuilder({ outputs: ['y'] });
  b.setColumns(['x', 'c', 'y']);
  for (let i = 0; i < 300; i++) b.addRow([String(i % 100), ['p', 'q'][i % 2], String(i % 3)]);
  return b.finish();
}
const JSON_TYPE = 'application/json';
const line = (input: unknown, output?: unknown) =>
  JSON.stringify({
    captureData: { endpointInput: input, ...(output ? { endpointOutput: output } : {}) },
    eventMetadata: { inferenceTime: '2026-11-26T10:00:00Z' },
  });
const GOOD = line({ data: '1,p', encoding: 'CSV' }, { data: '1', encoding: 'CSV' });

async function scan(lines: string[]) {
  const live = new LiveSummary(profile());
  const stats = await scanCapture(
    (async function* () {
      yield { source: 's', lines };
    })(),
    live,
  );
  return { live, stats };
}

describe('each kind of bad capture line has its reason and its own count', () => {
  it.each([
    ['extra CSV columns', line({ data: '1,p,9', encoding: 'CSV' }, { data: '1', encoding: 'CSV' }), 'extra columns'],
    ['a short CSV row', line({ data: '1', encoding: 'CSV' }, { data: '1', encoding: 'CSV' }), 'missing columns'],
    ['a short JSON row', line({ data: '[[1]]', encoding: 'JSON', observedContentType: JSON_TYPE }), 'missing columns'],
    [
      'extra output columns (a probability per class)',
      line(
        { data: '[[1,"p"]]', encoding: 'JSON', observedContentType: JSON_TYPE },
        { data: '[0.3,0.7]', encoding: 'JSON', observedContentType: JSON_TYPE },
      ),
      'more output rows than input rows',
    ],
    ['1e999 in CSV', line({ data: '1e999,p', encoding: 'CSV' }, { data: '1', encoding: 'CSV' }), 'number out of range'],
    ['1e999 in JSON', line({ data: '[[1e999,"p"]]', encoding: 'JSON', observedContentType: JSON_TYPE }), 'number out of range'],
    ['a numeric encoding', line({ data: '1,p', encoding: 5 }), 'unknown encoding'],
    ['an unknown encoding', line({ data: '1,p', encoding: 'XML' }), 'unknown encoding'],
    ['data that is not a string', line({ data: 5, encoding: 'CSV' }), 'unreadable payload'],
    ['bad base64', line({ data: '@@@', encoding: 'BASE64', observedContentType: 'text/csv' }), 'unreadable payload'],
    ['a number', '5', 'not a capture record'],
    ['null', 'null', 'not a capture record'],
    ['a list', '[1,2]', 'not a capture record'],
    ['captureData that is a string', '{"captureData":"x"}', 'not a capture record'],
    ['not JSON', '{"captureData": ', 'not JSON'],
  ])('%s', async (_name, bad, reason) => {
    const { live, stats } = await scan([GOOD, bad, GOOD]);
    expect(stats.records).toBe(2);
    expect(live.inputRows).toBe(2);
    expect(stats.bad).toBe(1);
    expect(stats.badReasons).toEqual({ [reason]: 1 });
    expect(stats.badExamples.join()).not.toMatch(/is not a function|Cannot read properties/);
  });
});

describe('capture lines longer than SageMaker can write', () => {
  it('a 50 MB line is skipped and counted, in linear time and flat memory; the lines around it are read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-long-'));
    try {
      const file = path.join(dir, 'long.jsonl');
      const fd = openSync(file, 'w');
      writeSync(fd, GOOD + '\n' + '{"captureData":{"endpointInput":{"data":"');
      const block = Buffer.alloc(1024 * 1024, 'a');
      for (let i = 0; i < 50; i++) writeSync(fd, block);
      writeSync(fd, '","encoding":"CSV"}}}\n' + GOOD + '\n');
      closeSync(fd);
      const live = new LiveSummary(profile());
      const stats = await scanCapture(localCaptureLines([{ name: file }]), live);
      expect(MAX_CAPTURE_LINE_BYTES).toBeLessThan(50 * 1024 * 1024);
      expect(stats).toMatchObject({ lines: 3, records: 2, bad: 1, badReasons: { 'line too long': 1 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a too-long last line without a newline is counted too', async () => {
    const live = new LiveSummary(profile());
    const stats = await scanCapture(
      (async function* () {
        const { splitLines } = await import('../../src/adapters/capture-source.js');
        yield* splitLines(
          (async function* () {
            yield* ['ab\ncdefgh', 'ijk'];
          })(),
          's',
          undefined,
          4,
        );
      })(),
      live,
    );
    expect(stats.badReasons).toEqual({ 'not JSON': 1, 'line too long': 1 });
  });
});
