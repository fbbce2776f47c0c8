import { describe, expect, it } from 'vitest';
import { openAuditLog } from '../../src/adapters/audit-log.js';
import { MemoryStore } from '../../src/adapters/s3-store.js';
import {
  anchorIn,
  auditKey,
  canonicalJson,
  GENESIS_HASH,
  sealRecord,
  sha256Hex,
  verifyChain,
  verifyTrail,
  type AuditRecord,
  type StoredKey,
} from '../../src/core/audit.js';

const ev = (action: string) => ({ kind: 'stage' as const, action, endpoint: 'ep', actor: 'ana@laptop', details: { n: 1 } });

async function chain(n: number): Promise<{ key: string; record: AuditRecord }[]> {
  const out: { key: string; record: AuditRecord }[] = [];
  let prev: AuditRecord | undefined;
  for (let i = 0; i < n; i++) {
    prev = await sealRecord(ev(`a${i}`), prev, new Date(Date.UTC(2026, 0, 1, 0, i)));
    out.push({ key: auditKey('audit/ep', prev.seq), record: prev });
  }
  return out;
}

describe('audit core', () => {
  it('canonical JSON sorts keys and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[1,null]},"b":1}');
  });
  it('sha256Hex matches a known vector', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('chains records', async () => {
    const c = await chain(3);
    expect(c[0].record.prevHash).toBe(GENESIS_HASH);
    expect(c[1].record.prevHash).toBe(await sha256Hex(canonicalJson(c[0].record)));
    expect(await verifyChain(c)).toMatchObject({ ok: true, records: 3, head: { seq: 3 } });
  });
  it('detects a gap', async () => {
    const c = await chain(4);
    const r = await verifyChain([c[0], c[1], c[3]]);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.kind)).toContain('gap');
  });
  it('detects an altered record (content edited, hash kept)', async () => {
    const c = await chain(3);
    c[1].record = { ...c[1].record, details: { n: 2 } };
    const r = await verifyChain(c);
    expect(r.problems.map((p) => p.kind)).toEqual(['altered', 'broken-link']);
  });
  it('detects an edited record whose own hash was recomputed, by the next link', async () => {
    const c = await chain(3);
    const { hash: _h, ...body } = { ...c[1].record, action: 'forged' };
    c[1].record = { ...body, hash: await sha256Hex(canonicalJson(body)) };
    const r = await verifyChain(c);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'broken-link', seq: 3 })]);
  });
  it('detects a reordering (records swapped between keys)', async () => {
    const c = await chain(3);
    const swapped = [c[0], { key: c[1].key, record: c[2].record }, { key: c[2].key, record: c[1].record }];
    const r = await verifyChain(swapped);
    expect(r.problems.map((p) => p.kind)).toContain('reordered');
  });
});

describe('audit log (in-memory store)', () => {
  it('appends under retention, concurrently without losing a record, and verifies', async () => {
    const store = new MemoryStore();
    const log = openAuditLog({ store, location: { bucket: 'audit', prefix: 'trail' }, endpoint: 'ep', retentionDays: 1 });
    await Promise.all([log.append(ev('a')), log.append(ev('b')), log.append(ev('c'))]);
    const report = await log.verify();
    expect(report).toMatchObject({ ok: true, records: 3 });
    expect((await store.head('audit', 'trail/ep/000000000001.json'))?.lockMode).toBe('COMPLIANCE');
    expect((await log.tail(2)).map((r) => r.seq)).toEqual([2, 3]);
  });
});

/** A chain as its version history shows it: one stored version per key, retained as configured. */
async function stored(n: number, days = 30): Promise<StoredKey[]> {
  return (await chain(n)).map(({ key, record }) => ({
    key,
    versions: 1,
    deleteMarkers: 0,
    deleted: false,
    newest: { record, lockMode: 'COMPLIANCE', retainUntil: new Date(Date.parse(record.at) + days * 86_400_000) },
  }));
}
const policy = { mode: 'COMPLIANCE', days: 30 };

describe('audit trail verification (version history, retention, anchors)', () => {
  it('passes an intact history retained as configured, with anchors that match', async () => {
    const keys = await stored(4);
    const anchors = [{ seq: 2, hash: keys[1].newest!.record!.hash, source: 's3://state/d1.json' }];
    expect(await verifyTrail(keys, { retention: policy, anchors })).toMatchObject({ ok: true, records: 4, anchors: 1, problems: [] });
  });
  it('reports a delete marker, and keeps walking the chain through the deleted record', async () => {
    const keys = await stored(3);
    keys[2] = { ...keys[2], deleteMarkers: 1, deleted: true };
    const r = await verifyTrail(keys, { retention: policy });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'deleted', seq: 3, message: expect.stringMatching(/is deleted/) })]);
    expect(r.head?.seq).toBe(3);
  });
  it('reports a key written over (more than one version)', async () => {
    const keys = await stored(3);
    keys[1] = { ...keys[1], versions: 2 };
    const r = await verifyTrail(keys, { retention: policy });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'overwritten', seq: 2 })]);
  });
  it('reports retention that is missing, in another mode, or shorter than configured', async () => {
    const keys = await stored(3);
    keys[0].newest = { record: keys[0].newest!.record };
    keys[1].newest = { ...keys[1].newest!, lockMode: 'GOVERNANCE' };
    const r = await verifyTrail(await stored(3, 29), { retention: policy });
    expect(r.problems.map((p) => p.kind)).toEqual(['retention-short', 'retention-short', 'retention-short']);
    const mixed = await verifyTrail(keys, { retention: policy });
    expect(mixed.problems.map((p) => [p.kind, p.seq])).toEqual([
      ['retention-missing', 1],
      ['retention-mode', 2],
    ]);
  });
  it('detects a tail rewritten and re-hashed from one point on, by an anchor', async () => {
    const keys = await stored(4);
    const anchor = { seq: 3, hash: keys[2].newest!.record!.hash, source: 's3://state/ep/deployments/d1.json' };
    // The attacker rewrites records 3 and 4 and re-hashes them consistently: the chain still links.
    let prev = keys[1].newest!.record;
    for (const i of [2, 3]) {
      prev = await sealRecord({ ...ev(`forged${i}`) }, prev, new Date(Date.UTC(2026, 0, 1, 0, i)));
      keys[i] = { ...keys[i], newest: { ...keys[i].newest!, record: prev } };
    }
    expect((await verifyChain(keys.map((k) => ({ key: k.key, record: k.newest!.record })))).ok).toBe(true);
    const r = await verifyTrail(keys, { retention: policy, anchors: [anchor] });
    expect(r.problems).toEqual([
      expect.objectContaining({ kind: 'anchor-mismatch', seq: 3, message: expect.stringContaining('s3://state/ep/deployments/d1.json') }),
    ]);
    const truncated = await verifyTrail(keys.slice(0, 2), { anchors: [anchor] });
    expect(truncated.problems).toEqual([expect.objectContaining({ kind: 'anchor-missing', seq: 3 })]);
  });
  it('reads an anchor only from a well-formed auditHead', () => {
    const hash = 'a'.repeat(64);
    expect(anchorIn({ auditHead: { seq: 2, hash } }, 'src')).toEqual({ seq: 2, hash, source: 'src' });
    for (const bad of [null, {}, { auditHead: null }, { auditHead: { seq: 0, hash } }, { auditHead: { seq: 1, hash: 'x' } }]) {
      expect(anchorIn(bad, 'src')).toBeUndefined();
    }
  });
});

describe('audit log appends over a version history (in-memory versioned store)', () => {
  const at = () => new Date(Date.UTC(2026, 0, 1));
  const open = (store: MemoryStore) =>
    openAuditLog({ store, location: { bucket: 'audit', prefix: 'trail' }, endpoint: 'ep', retentionDays: 1, now: at });

  it('never reuses the key of a deleted record: the next number comes from every version', async () => {
    const store = new MemoryStore(at);
    const first = open(store);
    for (const a of ['a', 'b', 'c', 'd']) await first.append(ev(a));
    await store.delete('audit', 'trail/ep/000000000004.json');
    await store.delete('audit', 'trail/ep/000000000003.json');
    const next = await open(store).append(ev('e'));
    expect(next.seq).toBe(5);
    const report = await open(store).verify();
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([
      ['deleted', 3],
      ['deleted', 4],
    ]);
    expect(report.head).toEqual({ seq: 5, hash: next.hash });
  });

  it('a log that appended before checks that the next key never existed (another writer, then a deletion)', async () => {
    const store = new MemoryStore(at);
    const mine = open(store);
    await mine.append(ev('a'));
    await open(store).append(ev('other writer'));
    await store.delete('audit', 'trail/ep/000000000002.json');
    expect((await mine.append(ev('b'))).seq).toBe(3);
    expect(mine.head()?.seq).toBe(3);
    expect((await open(store).verify()).problems.map((p) => p.kind)).toEqual(['deleted']);
  });

  it('a key that only ends like a record (in a folder under the chain) is not part of the chain', async () => {
    const store = new MemoryStore(at);
    const log = open(store);
    for (const a of ['a', 'b', 'c']) await log.append(ev(a));
    // Written by someone with write access to the bucket: a self-consistent record 9 and a second genesis.
    const forged9 = { ...(await sealRecord(ev('forged'), undefined, at())), seq: 9 };
    await store.putJson('audit', 'trail/ep/x/000000000009.json', forged9);
    await store.putJson('audit', 'trail/ep/y/000000000001.json', await sealRecord(ev('forged genesis'), undefined, at()));
    const next = await open(store).append(ev('d'));
    expect(next.seq).toBe(4);
    expect(next.prevHash).toBe(
      await sha256Hex(canonicalJson((await store.getJson<AuditRecord>('audit', 'trail/ep/000000000003.json'))!.value)),
    );
    expect((await open(store).tail(5)).map((r) => r.action)).toEqual(['a', 'b', 'c', 'd']);
    expect(
      await open(store).verify([
        { seq: 1, hash: (await store.getJson<AuditRecord>('audit', 'trail/ep/000000000001.json'))!.value.hash, source: 'd1' },
      ]),
    ).toMatchObject({
      ok: true,
      records: 4,
      head: { seq: 4, hash: next.hash },
    });
  });

  it('a record nested too deeply to hash is unreadable for verify and passed over by an append, not a stack overflow', async () => {
    const store = new MemoryStore(at);
    for (const a of ['a', 'b']) await open(store).append(ev(a));
    const deep = `{"seq":3,"details":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    await store.putBytes('audit', 'trail/ep/000000000003.json', new TextEncoder().encode(deep));
    await expect(store.getJson('audit', 'trail/ep/000000000003.json')).rejects.toMatchObject({
      code: 'S3_BAD_JSON',
      message: expect.stringMatching(/000000000003\.json .*deeper than 64 levels/),
    });
    expect((await open(store).append(ev('c'))).seq).toBe(4);
    const report = await open(store).verify();
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([['unreadable', 3]]);
  });

  it.each([
    ['not JSON', 'junk {'],
    ['JSON that is no record', 'null'],
    ['a record of another number', JSON.stringify({ seq: 9, action: 'x' })],
  ])(
    'an object left at the next key (%s) does not stop every later append (and so every promote and rollback); verify reports it',
    async (_what, body) => {
      const store = new MemoryStore(at);
      for (const a of ['a', 'b']) await open(store).append(ev(a));
      // Under the bucket's default Object Lock retention it cannot be removed for years.
      await store.putBytes('audit', 'trail/ep/000000000003.json', new TextEncoder().encode(body));
      const next = await open(store).append(ev('rollback.started'));
      expect(next.seq).toBe(4);
      expect((await open(store).append(ev('rollback.done'))).prevHash).toBe(await sha256Hex(canonicalJson(next)));
      const report = await open(store).verify();
      expect(report.ok).toBe(false);
      expect([...new Set(report.problems.map((p) => p.seq))]).toEqual([3]);
      expect(report.head?.seq).toBe(5);
    },
  );

  it.each([
    ['junk at the last 12-digit key', '999999999999', 'junk {'],
    ['a self-consistent record numbered past the padding', '5000000000000', 'record'],
  ])(
    'a forged key with a huge number (%s) does not stop every later append; verify reports the gap and the numbering',
    async (_what, digits, body) => {
      const store = new MemoryStore(at);
      for (const a of ['a', 'b']) await open(store).append(ev(a));
      const seq = Number(digits);
      const forged =
        body === 'record'
          ? new TextEncoder().encode(JSON.stringify({ ...(await sealRecord(ev('forged'), undefined, at())), seq }))
          : new TextEncoder().encode(body);
      await store.putBytes('audit', `trail/ep/${digits}.json`, forged);
      const next = await open(store).append(ev('rollback.started'));
      expect(next.seq).toBe(seq + 1);
      expect(await store.head('audit', `trail/ep/${seq + 1}.json`)).toBeDefined();
      // The next run (a fresh log, as every CLI run is) finds that record and goes on after it.
      const after = await open(store).append(ev('rollback.done'));
      expect(after.seq).toBe(seq + 2);
      expect(after.prevHash).toBe(await sha256Hex(canonicalJson(next)));
      expect((await open(store).tail(2)).map((r) => r.action)).toEqual(['rollback.started', 'rollback.done']);
      const report = await open(store).verify();
      expect(report.ok).toBe(false);
      expect(report.head).toEqual({ seq: seq + 2, hash: after.hash });
      expect(report.problems.find((p) => p.kind === 'gap')).toMatchObject({
        seq: 3,
        message: `records 3..${seq - 1} are missing before trail/ep/${digits}.json`,
      });
      const past = report.problems.find((p) => p.kind === 'numbered-past-padding');
      expect(past?.key).toBe(seq > 999_999_999_999 ? `trail/ep/${digits}.json` : `trail/ep/${seq + 1}.json`);
      expect(past?.message).toMatch(/more than 12 digits/);
    },
  );

  it('a key whose number no chain can reach (past a safe integer) or with a leading zero past the padding is not part of the chain', async () => {
    const store = new MemoryStore(at);
    for (const a of ['a', 'b']) await open(store).append(ev(a));
    await store.putBytes('audit', 'trail/ep/99999999999999999999.json', new TextEncoder().encode('junk'));
    await store.putBytes('audit', 'trail/ep/0000000000003.json', new TextEncoder().encode('junk'));
    expect((await open(store).append(ev('c'))).seq).toBe(3);
    expect((await open(store).append(ev('d'))).seq).toBe(4);
    expect(await open(store).verify()).toMatchObject({ ok: true, records: 4 });
  });

  it('verify reports a record written over, and checks anchors', async () => {
    const store = new MemoryStore(at);
    const log = open(store);
    for (const a of ['a', 'b', 'c']) await log.append(ev(a));
    const head = log.head()!;
    expect((await log.verify([{ ...head, source: 'd1' }])).ok).toBe(true);
    const key = 'trail/ep/000000000003.json';
    const rec = (await store.getJson<AuditRecord>('audit', key))!.value;
    await store.putJson('audit', key, { ...rec, action: 'forged' }, { retention: { mode: 'COMPLIANCE', until: new Date(2030, 0) } });
    const r = await log.verify([{ ...head, source: 'd1' }]);
    expect(r.problems.map((p) => p.kind)).toEqual(['overwritten', 'altered', 'anchor-mismatch']);
  });
});
