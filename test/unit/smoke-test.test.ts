/** The smoke test's judgement (core) and its example rows (adapter). */
import { describe, expect, it } from 'vitest';
import { csvHead, exampleBody } from '../../src/adapters/smoke-test.js';
import { judgeSmoke } from '../../src/core/smoke.js';

const ok = (body: string) => ({ status: 200, body });

describe('smoke test', () => {
  it('passes a 2xx parsable answer of the same shape as production, values aside', () => {
    expect(judgeSmoke({ variant: 'c', answer: ok('[3.5, 1]') }, { variant: 'p', answer: ok('{"predictions": [1, 2]}') })).toEqual({
      passed: true,
    });
    expect(judgeSmoke({ variant: 'c', answer: ok('1.5\n2.5\n') })).toEqual({ passed: true });
  });
  it('fails an error status, an unparsable body, or another shape, naming the variant, status and body', () => {
    expect(judgeSmoke({ variant: 'c', answer: { status: 500, body: 'boom\n at x' } }).reason).toBe(
      'variant "c" answered HTTP 500: boom at x',
    );
    expect(judgeSmoke({ variant: 'c', answer: ok('<html>oops</html>') }).reason).toMatch(/does not parse: <html>oops/);
    expect(judgeSmoke({ variant: 'c', answer: ok('') }).reason).toMatch(/does not parse: \(empty body\)/);
    expect(judgeSmoke({ variant: 'c', answer: ok('[1]') }, { variant: 'p', answer: ok('[1, 2]') }).reason).toMatch(
      /1 value\(s\): number, but production variant "p" answers the same rows with 2 value\(s\): number/,
    );
    expect(judgeSmoke({ variant: 'c', answer: ok('x'.repeat(1000)) }, undefined).passed).toBe(true);
    expect(judgeSmoke({ variant: 'c', answer: { status: 424, body: 'y'.repeat(1000) } }).reason!.length).toBeLessThan(400);
  });
  it('a production that errs itself is no reference: only the candidate is judged', () => {
    expect(judgeSmoke({ variant: 'c', answer: ok('[1]') }, { variant: 'p', answer: { status: 500, body: 'x' } })).toEqual({ passed: true });
  });
  it('takes the first rows of an MLflow serving example, of an older input example, or of a CSV holdout', () => {
    const split = JSON.stringify({
      dataframe_split: {
        columns: ['a', 'b'],
        data: [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      },
    });
    expect(JSON.parse(exampleBody('serving_input_example.json', split, 2)!)).toEqual({
      dataframe_split: {
        columns: ['a', 'b'],
        data: [
          [1, 2],
          [3, 4],
        ],
      },
    });
    expect(JSON.parse(exampleBody('serving_input_example.json', '{"inputs": [[1], [2]]}', 1)!)).toEqual({ inputs: [[1]] });
    expect(JSON.parse(exampleBody('input_example.json', '{"columns": ["a"], "data": [[1], [2]]}', 1)!)).toEqual({
      dataframe_split: { columns: ['a'], data: [[1]] },
    });
    expect(exampleBody('input_example.json', 'not json', 1)).toBeUndefined();
    expect(csvHead('a,b,target\n1,2,0\n3,4,1\n5,6,0\n', 2, ['a', 'b'])).toBe('a,b\n1,2\n3,4\n');
    expect(csvHead('a,b\n', 2)).toBeUndefined();
  });
});
