/** Line splitting of streamed chunks and line-aligned file splitting (local files). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localCaptureFiles, localCaptureLines, splitLineChunks, splitLines, splitLocalFiles } from '../../src/adapters/capture-source.js';

async function collect(chunks: Array<Uint8Array | string>): Promise<string[]> {
  async function* gen() {
    for (const c of chunks) yield c;
  }
  const out: string[] = [];
  for await (const b of splitLines(gen(), 'x')) out.push(...b.lines);
  return out;
}

describe('splitLines', () => {
  it('joins lines split across chunks, also inside a multi-byte character', async () => {
    const text = 'héllo wörld\n€uro 1\nsecond line\nno newline at the end';
    const bytes = Buffer.from(text, 'utf8');
    for (let size = 1; size <= 7; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(await collect(chunks)).toEqual(text.split('\n'));
    }
    expect(await collect(['a\nb', 'c\n'])).toEqual(['a', 'bc']);
    expect(await collect([Buffer.from('only\n')])).toEqual(['only']);
  });

  it('drops a too-long line that lies whole inside one chunk, in bytes and decoded alike', async () => {
    const chunks = () =>
      (async function* () {
        yield Buffer.from('a\n' + 'x'.repeat(10) + '\nbb\n' + 'y'.repeat(5) + '\nc');
        yield Buffer.from('d\n');
      })();
    const bytes: string[] = [];
    let tooLong = 0;
    for await (const b of splitLineChunks(chunks(), 's', undefined, 4)) {
      bytes.push(Buffer.from(b.bytes).toString('utf8'));
      tooLong += b.tooLong ?? 0;
    }
    expect(bytes.join('')).toBe('a\nbb\ncd\n');
    expect(tooLong).toBe(2);
    const lines: string[] = [];
    tooLong = 0;
    for await (const b of splitLines(chunks(), 's', undefined, 4)) {
      lines.push(...b.lines);
      tooLong += b.tooLong ?? 0;
    }
    expect(lines).toEqual(['a', 'bb', 'cd']);
    expect(tooLong).toBe(2);
  });
});

describe('local files', () => {
  it('splits a big file at line boundaries into ranges that read every line exactly once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-split-'));
    try {
      const lines = Array.from({ length: 5000 }, (_, i) => `{"n":${i},"pad":"${'ü'.repeat(i % 17)}"}`);
      writeFileSync(path.join(dir, 'a.jsonl'), lines.join('\n') + '\n');
      writeFileSync(path.join(dir, 'b.jsonl'), 'small\n');
      const files = await localCaptureFiles([dir]);
      expect(files.map((f) => path.basename(f.name))).toEqual(['a.jsonl', 'b.jsonl']);
      const parts = await splitLocalFiles(files, 10_000);
      expect(parts.length).toBeGreaterThan(5);
      const read: string[] = [];
      for await (const b of localCaptureLines(parts))
        read.push(
          ...Buffer.from(b.bytes)
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        );
      expect(read).toEqual([...lines, 'small']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parallel scan (worker threads of the built package)', () => {
  it('gives the same counts and verdict as the scan in this thread', async () => {
    // The worker entry exists only as built JavaScript (npm test builds first).
    const dist = path.resolve(__dirname, '../../dist/adapters/capture-source.js');
    const built = await import(dist);
    const { LiveSummary, evaluateDrift } = await import(path.resolve(__dirname, '../../dist/core/drift/evaluate.js'));
    const { ProfileBuilder } = await import(path.resolve(__dirname, '../../dist/core/drift/profile.js'));
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-par-'));
    try {
      const b = new ProfileBuilder({ outputs: ['y'] });
      b.setColumns(['x', 'c', 'y']);
      for (let i = 0; i < 2000; i++) b.addRow([String((i * 7919) % 1000), ['p', 'q'][i % 2], String(i % 3)]);
      const profile = b.finish();
      for (let f = 0; f < 1; f++) {
        const lines = Array.from({ length: 9000 }, (_, i) =>
          JSON.stringify({
            captureData: {
              endpointInput: {
                observedContentType: 'text/csv',
                mode: 'INPUT',
                data: `${(i * 31 + f) % 1200},${['p', 'q', 'r'][i % 3]}`,
                encoding: 'CSV',
              },
              endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: String(i % 3), encoding: 'CSV' },
            },
            eventMetadata: { eventId: `${f}-${i}`, inferenceTime: '2026-11-26T10:00:00Z' },
            eventVersion: '0',
          }),
        );
        writeFileSync(path.join(dir, `${f}.jsonl`), lines.join('\n') + '\n');
      }
      const files = await built.localCaptureFiles([dir]);
      const one = new LiveSummary(profile);
      const s1 = await built.scanCapture({ kind: 'local', files }, one, { workers: 1 });
      const par = new LiveSummary(profile);
      // Threads started ahead (as monitor does while it loads the baseline) take the job.
      await built.warmScanWorkers(files, { workers: 2, minParallelBytes: 0 });
      const s2 = await built.scanCapture({ kind: 'local', files }, par, { workers: 2, minParallelBytes: 0 });
      // The parallel path cuts the file into line-aligned ranges, scanned by both threads; it is still one source.
      expect(s2).toEqual(s1);
      expect(s1.sources).toBe(1);
      expect(par.inputRows).toBe(9000);
      const r1 = evaluateDrift(one);
      const r2 = evaluateDrift(par);
      expect(r2.dataset.status).toBe(r1.dataset.status);
      expect(r2.features.map((f: { liveCount: number; status: string }) => [f.liveCount, f.status])).toEqual(
        r1.features.map((f: { liveCount: number; status: string }) => [f.liveCount, f.status]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('threads started ahead and never used do not keep the process alive', () => {
    const dist = path.resolve(__dirname, '../../dist/adapters/capture-source.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-warm-'));
    try {
      const script = path.join(dir, 'warm.mjs');
      writeFileSync(
        script,
        `const m = await import(${JSON.stringify(dist)});\nawait m.warmScanWorkers([{ name: 'x', size: 1e9 }], { workers: 2 });\nconsole.log('warmed');\n`,
      );
      // Were the idle threads holding the process, it would not end by itself (it is killed after a minute: status null).
      const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('warmed');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
