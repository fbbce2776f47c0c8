/**
 * A SageMaker-managed MLflow tracking server (tracking URI = its ARN): every request is SigV4-signed
 * as AWS's sagemaker-mlflow plugin signs it. A loopback stand-in records each request and forwards it
 * to the real MLflow server; botocore (the Python SDK's signer, not our code) then recomputes each
 * signature from the request as received.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMlflowClient } from '../../src/adapters/mlflow.js';
import { exitCodeFor } from '../../src/core/errors.js';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const ARN = 'arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/team-mlflow';
const KEYS = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'tok/en+1',
};
const seen: Seen[] = [];
let standIn: Server;
let endpoint: string;

beforeAll(async () => {
  const upstream = new URL(inject('mlflowUrl'));
  standIn = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers as Record<string, string>, body: body.toString('utf8') });
      // SageMaker's front door rejects an unsigned request; so does the stand-in.
      if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256 ')) {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Missing Authentication Token"}');
        return;
      }
      const fwd = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { 'content-type': 'application/json' },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' });
          up.pipe(res);
        },
      );
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => standIn.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => standIn.close(() => r())));

/** botocore's verdict on each recorded request: the signature it computes from the request as received. */
function botocoreSignatures(requests: Seen[], secret: string): { expected: string; got: string }[] {
  const script = `
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
out = []
for r in json.load(sys.stdin)["requests"]:
    auth = r["headers"]["authorization"]
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    got = auth.split("Signature=")[1]
    headers = {h: r["headers"][h] for h in signed}
    req = AWSRequest(method=r["method"], url="${endpoint}" + r["url"], data=r["body"].encode() if r["body"] else None, headers=headers)
    req.context["timestamp"] = r["headers"]["x-amz-date"]
    creds = Credentials(sys.argv[1], sys.argv[2], r["headers"].get("x-amz-security-token"))
    s = SigV4Auth(creds, "sagemaker-mlflow", "eu-west-1")
    cr = s.canonical_request(req)
    out.append({"expected": s.signature(s.string_to_sign(req, cr), req), "got": got})
print(json.dumps(out))
`;
  const py = join(process.cwd(), '.venv', 'bin', 'python');
  const stdout = execFileSync(py, ['-c', script, KEYS.AWS_ACCESS_KEY_ID, secret], {
    input: JSON.stringify({ requests }),
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as { expected: string; got: string }[];
}

describe('SageMaker-managed MLflow (tracking URI = ARN)', () => {
  it('signs every call as sagemaker-mlflow in the ARN region, with the ARN header; botocore agrees with each signature', async () => {
    seen.length = 0;
    const client = await createMlflowClient({ trackingUri: ARN, env: { ...KEYS, SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT: endpoint }, retries: 0 });
    expect(client.baseUrl).toBe(endpoint);
    const name = `sigv4 ${randomUUID().slice(0, 6)} (a+b)*`;
    const id = await client.createExperiment(name);
    expect((await client.getExperimentByName(name))?.experimentId).toBe(id);
    const page = await client.searchRuns({ experimentIds: [id], filter: "params.kind = 'a b,c:d'", maxResults: 5 });
    expect(page.runs).toEqual([]);

    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const r of seen) {
      expect(r.headers['x-mlflow-sm-tracking-server-arn']).toBe(ARN);
      expect(r.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/sagemaker-mlflow\/aws4_request, /,
      );
      expect(r.headers['x-amz-security-token']).toBe(KEYS.AWS_SESSION_TOKEN);
      expect(r.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-content-sha256[^,]*x-mlflow-sm-tracking-server-arn/);
    }
    // The GET with a query (name with spaces, parentheses, +, *) and the POSTs with bodies.
    expect(seen.some((r) => r.method === 'GET' && r.url.includes('?'))).toBe(true);
    expect(seen.some((r) => r.method === 'POST' && r.body.length > 0)).toBe(true);
    const verdicts = botocoreSignatures(seen, KEYS.AWS_SECRET_ACCESS_KEY);
    for (const v of verdicts) expect(v.got).toBe(v.expected);
  }, 60_000);

  it('the independent check can fail: with another secret, botocore computes other signatures', () => {
    const verdicts = botocoreSignatures(seen, 'not-the-secret');
    expect(verdicts.length).toBeGreaterThan(0);
    for (const v of verdicts) expect(v.got).not.toBe(v.expected);
  });

  it('a malformed ARN is a usage error (exit 2) naming the expected form', async () => {
    const err = await createMlflowClient({ trackingUri: 'arn:aws:sagemaker:eu-west-1:1234:tracking/x', env: KEYS }).catch(
      (e: unknown) => e,
    );
    expect(exitCodeFor(err)).toBe(2);
    expect((err as Error).message).toMatch(/not a SageMaker MLflow tracking server ARN/);
  });
});
