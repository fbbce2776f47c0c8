/** Decoding of SageMaker data-capture records: every encoding and body shape. */
import { describe, expect, it } from 'vitest';
import { decodePayload, decodeRecord, parseCsv, recordTime, type CaptureRecord } from '../../src/core/capture.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const rec = (input: object, output: object, time = '2026-11-26T10:00:00Z'): CaptureRecord => ({
  captureData: { endpointInput: { mode: 'INPUT', ...input }, endpointOutput: { mode: 'OUTPUT', ...output } },
  eventMetadata: { eventId: 'e1', inferenceId: 'i1', inferenceTime: time },
  eventVersion: '0',
});
const layout = { inputWidth: 3, outputWidth: 1 };

describe('CSV', () => {
  it('one row, several rows, CRLF, quoted cells', () => {
    expect(parseCsv('1,2,3')).toEqual([['1', '2', '3']]);
    expect(parseCsv('1,2,3\n4,5,6\n')).toEqual([
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
    expect(parseCsv('1,2,3\r\n4,5,6')).toEqual([
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
    expect(parseCsv('"a,b",2,"say ""hi"""\n3,,x')).toEqual([
      ['a,b', '2', 'say "hi"'],
      ['3', '', 'x'],
    ]);
    expect(parseCsv('')).toEqual([]);
  });

  it('a CSV record with several rows and a CSV output per row', () => {
    const d = decodeRecord(
      rec(
        { observedContentType: 'text/csv', data: '1,2,3\n4,5,6', encoding: 'CSV' },
        { observedContentType: 'text/csv; charset=utf-8', data: '0.1\n0.9', encoding: 'CSV' },
      ),
      layout,
    );
    expect(d.inputs).toEqual([
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
    expect(d.outputs).toEqual([['0.1'], ['0.9']]);
  });

  it('a header row of known column names makes named rows (MLflow scoring wants a header)', () => {
    const names = new Set(['a', 'b', 'c', 'score']);
    const d = decodeRecord(
      rec(
        { observedContentType: 'text/csv', data: 'a,b,c\n1,2,3\n4,5,6\n', encoding: 'CSV' },
        { observedContentType: 'application/json', data: '{"predictions": [0.5, 0.7]}', encoding: 'JSON' },
      ),
      { ...layout, names },
    );
    expect(d.inputs).toEqual([
      { a: '1', b: '2', c: '3' },
      { a: '4', b: '5', c: '6' },
    ]);
    expect(d.outputs).toEqual([[0.5], [0.7]]);
    // Not every cell a known name: data, not a header.
    expect(decodeRecord(rec({ data: 'a,x,c\n1,2,3', encoding: 'CSV' }, {}), { ...layout, names }).inputs).toHaveLength(2);
  });

  it('one CSV output line holding one value per input row', () => {
    const d = decodeRecord(
      rec(
        { observedContentType: 'text/csv', data: '1,2,3\n4,5,6', encoding: 'CSV' },
        { observedContentType: 'text/csv', data: '0.1,0.9', encoding: 'CSV' },
      ),
      layout,
    );
    expect(d.outputs).toEqual([['0.1'], ['0.9']]);
  });
});

describe('JSON bodies', () => {
  const json = (v: unknown, width = 3) =>
    decodePayload({ observedContentType: 'application/json', data: JSON.stringify(v), encoding: 'JSON' }, width);

  it('instances and inputs, as lists of lists or records', () => {
    expect(
      json({
        instances: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      }),
    ).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(json({ instances: [{ a: 1, b: 'x' }] })).toEqual([{ a: 1, b: 'x' }]);
    expect(json({ inputs: [[1, 2, 3]] })).toEqual([[1, 2, 3]]);
    expect(json({ inputs: { a: [1, 2], b: [3, 4] } })).toEqual([
      { a: 1, b: 3 },
      { a: 2, b: 4 },
    ]);
  });

  it('MLflow dataframe_split and dataframe_records', () => {
    expect(
      json({
        dataframe_split: {
          columns: ['a', 'b'],
          data: [
            [1, 2],
            [3, 4],
          ],
        },
      }),
    ).toEqual([
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ]);
    expect(json({ dataframe_records: [{ a: 1 }, { a: 2 }] })).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('column-oriented objects are flattened; a single record and a single row are one row', () => {
    expect(json({ a: [1, 2, 3], b: ['x', 'y', 'z'] })).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
      { a: 3, b: 'z' },
    ]);
    expect(json({ a: 1, b: 2 })).toEqual([{ a: 1, b: 2 }]);
    expect(json([1, 2, 3])).toEqual([[1, 2, 3]]);
  });

  it('MLflow predictions: scalars (one per row), lists, records; bare lists and scalars', () => {
    expect(json({ predictions: [0, 1, 1] }, 1)).toEqual([[0], [1], [1]]);
    expect(json({ predictions: [[0.2, 0.8]] }, 2)).toEqual([[0.2, 0.8]]);
    expect(json({ predictions: [{ label: 'cat', score: 0.7 }] }, 2)).toEqual([{ label: 'cat', score: 0.7 }]);
    expect(json([0.5, 0.25], 1)).toEqual([[0.5], [0.25]]);
    expect(json(0.75, 1)).toEqual([[0.75]]);
  });

  it('JSON Lines bodies', () => {
    const rows = decodePayload(
      { observedContentType: 'application/jsonlines', data: '{"instances":[[1,2,3]]}\n{"instances":[[4,5,6]]}', encoding: 'JSON' },
      3,
    );
    expect(rows).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });
});

describe('BASE64', () => {
  it('wrapping CSV, JSON, and sniffed when the content type says neither', () => {
    expect(decodePayload({ observedContentType: 'text/csv', data: b64('1,2,3\n4,5,6'), encoding: 'BASE64' }, 3)).toEqual([
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
    expect(
      decodePayload({ observedContentType: 'application/json', data: b64('{"instances":[[1,2,"é"]]}'), encoding: 'BASE64' }, 3),
    ).toEqual([[1, 2, 'é']]);
    expect(decodePayload({ observedContentType: 'application/octet-stream', data: b64('[[7,8,9]]'), encoding: 'BASE64' }, 3)).toEqual([
      [7, 8, 9],
    ]);
    expect(decodePayload({ observedContentType: 'application/octet-stream', data: b64('7,8,9'), encoding: 'BASE64' }, 3)).toEqual([
      ['7', '8', '9'],
    ]);
  });

  it('input and output in different encodings', () => {
    const d = decodeRecord(
      rec(
        {
          observedContentType: 'application/json',
          data: JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 2, 3]] } }),
          encoding: 'JSON',
        },
        { observedContentType: 'application/x-custom', data: b64('0.42'), encoding: 'BASE64' },
      ),
      layout,
    );
    expect(d.inputs).toEqual([{ a: 1, b: 2, c: 3 }]);
    expect(d.outputs).toEqual([['0.42']]);
  });
});

describe('records', () => {
  it('inference time, missing output, unknown encoding, not a capture record', () => {
    const r = rec({ observedContentType: 'text/csv', data: '1,2,3', encoding: 'CSV' }, {});
    expect(recordTime(r)).toBe(Date.parse('2026-11-26T10:00:00Z'));
    expect(decodeRecord({ captureData: { endpointInput: r.captureData!.endpointInput } }, layout).outputs).toEqual([]);
    expect(() => decodePayload({ data: 'x', encoding: 'XML' }, 1)).toThrow(/unknown capture encoding/);
    expect(() => decodeRecord({}, layout)).toThrow(/no captureData/);
    expect(recordTime({})).toBeNaN();
  });
});
