import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { colorEnabled, createIo, isCI, Io, type Stream, type Style } from '../../src/cli/io.js';

class Sink implements Stream {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  // What ora calls on a terminal.
  cursorTo(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
}

const ESC = '\u001b[';
const tty = new Sink(true);
const pipe = new Sink(false);

describe('colorEnabled', () => {
  it('is on for a TTY and off for a pipe', () => {
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
  });
  it('NO_COLOR with any non-empty value turns it off; empty NO_COLOR does not', () => {
    for (const v of ['1', '0', 'false', 'yes']) expect(colorEnabled(tty, { NO_COLOR: v })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true);
  });
  it('--no-color turns it off even with FORCE_COLOR', () => {
    expect(colorEnabled(tty, { FORCE_COLOR: '1' }, false)).toBe(false);
  });
  it('FORCE_COLOR forces it on a pipe; FORCE_COLOR=0 or false turns it off on a TTY', () => {
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(colorEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled(tty, { FORCE_COLOR: 'false' })).toBe(false);
  });
  it('NO_COLOR wins over FORCE_COLOR; TERM=dumb turns it off', () => {
    expect(colorEnabled(tty, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });
});

describe('Io output', () => {
  it('styles only when colour is on', async () => {
    const err = new Sink(true);
    (await createIo({ stdout: new Sink(true), stderr: err, env: {} })).error('boom');
    expect(err.text).toContain(`${ESC}31merror:`);
    const plain = new Sink(true);
    (await createIo({ stdout: new Sink(true), stderr: plain, env: { NO_COLOR: '1' } })).error('boom');
    expect(plain.text).toBe('error: boom\n');
    const flag = new Sink(true);
    (await createIo({ stdout: new Sink(true), stderr: flag, env: {}, color: false })).error('boom');
    expect(flag.text).toBe('error: boom\n');
  });

  it('chalk writes the same basic 16-colour codes as before, whatever FORCE_COLOR level is asked', async () => {
    const codes: Record<Style, [number, number]> = {
      red: [31, 39],
      green: [32, 39],
      yellow: [33, 39],
      cyan: [36, 39],
      dim: [2, 22],
      bold: [1, 22],
    };
    for (const env of [{}, { FORCE_COLOR: '3' }]) {
      const io = await createIo({ stdout: new Sink(true), stderr: new Sink(true), env });
      for (const [style, [open, close]] of Object.entries(codes) as Array<[Style, [number, number]]>) {
        expect(io.style(style, 'x')).toBe(`${ESC}${open}mx${ESC}${close}m`);
        expect(io.styleOut(style, 'x')).toBe(`${ESC}${open}mx${ESC}${close}m`);
      }
    }
  });

  it('each stream is judged on its own; --json never styles stdout; FORCE_COLOR colours a pipe', async () => {
    const ttyErr = await createIo({ stdout: new Sink(false), stderr: new Sink(true), env: {} });
    expect(ttyErr.style('red', 'x')).toBe(`${ESC}31mx${ESC}39m`);
    expect(ttyErr.styleOut('red', 'x')).toBe('x');
    const json = await createIo({ stdout: new Sink(true), stderr: new Sink(true), env: {}, json: true });
    expect(json.styleOut('green', 'x')).toBe('x');
    expect(json.style('green', 'x')).toBe(`${ESC}32mx${ESC}39m`);
    const forced = await createIo({ stdout: new Sink(false), stderr: new Sink(false), env: { FORCE_COLOR: '1' } });
    expect(forced.styleOut('yellow', 'x')).toBe(`${ESC}33mx${ESC}39m`);
    const off = await createIo({ stdout: new Sink(true), stderr: new Sink(true), env: { FORCE_COLOR: '0' } });
    expect(off.style('red', 'x')).toBe('x');
  });

  it('an Io built without chalk (no colour wanted) writes plain text', () => {
    const err = new Sink(true);
    new Io({ stdout: new Sink(true), stderr: err, env: {} }).error('boom');
    expect(err.text).toBe('error: boom\n');
  });

  it('results go to stdout, logs to stderr; --json prints exactly one document', () => {
    const out = new Sink();
    const err = new Sink();
    const io = new Io({ stdout: out, stderr: err, env: {}, json: true });
    io.info('working');
    io.result({ ok: true }, 'human text');
    expect(JSON.parse(out.text)).toEqual({ ok: true });
    expect(err.text).toBe('working\n');
    expect(() => io.result({ again: true })).toThrow();
  });

  it('debug lines only with --verbose', () => {
    const err = new Sink();
    new Io({ stdout: new Sink(), stderr: err, env: {} }).debug('detail');
    expect(err.text).toBe('');
    new Io({ stdout: new Sink(), stderr: err, env: {}, verbose: true }).debug('detail');
    expect(err.text).toBe('detail\n');
  });

  it('masks secrets from the environment in every stream', () => {
    const out = new Sink();
    const err = new Sink();
    const env = { MLFLOW_TRACKING_TOKEN: 'tok-123456', AWS_SECRET_ACCESS_KEY: 'aws-secret-value' };
    const io = new Io({ stdout: out, stderr: err, env });
    io.info('token tok-123456');
    io.passthrough('child printed aws-secret-value\n');
    io.error('failed with tok-123456', 'hint aws-secret-value');
    io.result({ t: 'tok-123456' }, 'text tok-123456');
    expect(out.text + err.text).not.toMatch(/tok-123456|aws-secret-value/);
    expect(out.text).toBe('text ***\n');
  });

  it('an error or warning echoing what was typed or read shows its control characters as escapes; its line breaks stay', async () => {
    const err = new Sink(true);
    const io = await createIo({ stdout: new Sink(true), stderr: err, env: {} });
    io.error('"a\u001b[2Jb" is not a valid SageMaker endpoint name.\n  second line', 'e.g. --endpoint x\u202ey');
    // A warning quotes outside text as often (a comment service's answer, a capture line).
    io.warn('Could not comment: <html>Login \u001b[31mred</html>');
    expect(err.text).toContain('Could not comment: <html>Login \\x1b[31mred</html>');
    expect(err.text).toContain('"a\\x1b[2Jb" is not a valid SageMaker endpoint name.\n  second line');
    expect(err.text).toContain('x\\u202ey');
    expect(err.text).not.toContain('\u202e');
    // The escapes left are our own colours of "error:", "hint:" and "warning:".
    const ours = ['31m', '39m', '2m', '22m', '33m'].map((c) => `${ESC}${c}`);
    expect(ours.reduce((t, c) => t.replaceAll(c, ''), err.text)).not.toContain('\u001b');
  });
});

describe('GitHub Actions', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('errors and warnings also become ::error:: / ::warning:: annotations, escaped', () => {
    const err = new Sink();
    const io = new Io({ stdout: new Sink(), stderr: err, env: { GITHUB_ACTIONS: 'true' } });
    io.error('line one\nline two 100%', 'do this');
    io.warn('careful');
    expect(err.text).toContain('::error::line one%0Aline two 100%25 (do this)\n');
    expect(err.text).toContain('::warning::careful\n');
  });

  it('no annotations outside GitHub Actions', () => {
    const err = new Sink();
    new Io({ stdout: new Sink(), stderr: err, env: {} }).error('x');
    expect(err.text).not.toContain('::error::');
  });

  it('a step summary or output file that cannot be written is a warning naming it, never a crash that loses the verdict', () => {
    const err = new Sink();
    const io = new Io({
      stdout: new Sink(),
      stderr: err,
      env: { GITHUB_STEP_SUMMARY: '/nonexistent/summary.md', GITHUB_OUTPUT: tmpdir() },
    });
    expect(io.stepSummary('# report')).toBe(false);
    expect(io.githubOutput({ 'candidate-run-id': 'abc' })).toBe(false);
    expect(err.text).toMatch(/warning: could not append to \$GITHUB_STEP_SUMMARY \(\/nonexistent\/summary\.md\): ENOENT/);
    expect(err.text).toMatch(/warning: could not write the step output candidate-run-id to \$GITHUB_OUTPUT \(.+\): EISDIR/);
  });

  it('stepSummary appends Markdown to $GITHUB_STEP_SUMMARY, redacted', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-io-'));
    dirs.push(dir);
    const file = path.join(dir, 'summary.md');
    const io = new Io({ stdout: new Sink(), stderr: new Sink(), env: { GITHUB_STEP_SUMMARY: file, MLFLOW_TRACKING_TOKEN: 'secret-tok' } });
    expect(io.stepSummary('# one')).toBe(true);
    expect(io.stepSummary('two secret-tok\n')).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('# one\ntwo ***\n');
    expect(new Io({ stdout: new Sink(), stderr: new Sink(), env: {} }).stepSummary('x')).toBe(false);
  });
});

describe('spinner', () => {
  const allowed = (o: { tty?: boolean; env?: Record<string, string>; json?: boolean; verbose?: boolean }) =>
    new Io({ stdout: new Sink(), stderr: new Sink(o.tty ?? true), env: o.env ?? {}, json: o.json, verbose: o.verbose }).spinnerAllowed;

  it('only on a TTY, not in CI, not with --json or --verbose', () => {
    expect(allowed({})).toBe(true);
    expect(allowed({ tty: false })).toBe(false);
    expect(allowed({ env: { CI: 'true' } })).toBe(false);
    expect(allowed({ env: { CI: '1' } })).toBe(false);
    expect(allowed({ env: { CI: 'false' } })).toBe(true);
    expect(allowed({ json: true })).toBe(false);
    expect(allowed({ verbose: true })).toBe(false);
  });

  it('isCI', () => {
    expect(isCI({ CI: 'true' })).toBe(true);
    expect(isCI({ CI: '' })).toBe(false);
    expect(isCI({})).toBe(false);
  });

  it('without a TTY, progress is plain log lines', async () => {
    const err = new Sink(false);
    const io = new Io({ stdout: new Sink(), stderr: err, env: {} });
    const s = await io.spinner('pulling');
    s.update('still pulling');
    s.succeed('pulled');
    expect(err.text).toBe('… pulling\n… still pulling\n✔ pulled\n');
  });

  it('on a TTY, an ora spinner that ends with our symbol and honours NO_COLOR', async () => {
    const err = new Sink(true);
    const io = new Io({ stdout: new Sink(), stderr: err, env: { NO_COLOR: '1' } });
    const s = await io.spinner('pulling');
    s.succeed('pulled');
    expect(err.text).toContain('✔ pulled');
    expect(err.text).not.toContain(`${ESC}3`); // no colour codes
  });
});

describe('annotations on a place', () => {
  it('file, line and column, escaped; nothing outside GitHub Actions', () => {
    const err = new Sink();
    const io = new Io({ stdout: new Sink(), stderr: err, env: { GITHUB_ACTIONS: 'true' } });
    io.annotate('error', 'bad: value', { file: 'ci/mlops,x.yaml', line: 3, col: 5, title: 'mlops config' });
    expect(err.text).toBe('::error file=ci/mlops%2Cx.yaml,line=3,col=5,title=mlops config::bad: value\n');
    const quiet = new Sink();
    new Io({ stdout: new Sink(), stderr: quiet, env: {} }).annotate('error', 'x', { file: 'f' });
    expect(quiet.text).toBe('');
  });
});
