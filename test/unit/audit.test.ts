import { describe, expect, it } from 'vitest';
import { openAuditLog } from '../../src/adapters/audit-log.js';
import { MemoryStore } from '../../src/adapters/s3-store.js';
import { auditKey, canonicalJson, GENESIS_HASH, sealRecord, sha256Hex, verifyChain, type AuditRecord } from '../../src/core/audit.js';

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
