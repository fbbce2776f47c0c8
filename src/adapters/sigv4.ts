/**
 * SigV4 for a SageMaker-managed MLflow tracking server, as AWS's own MLflow plugin (sagemaker-mlflow)
 * sends it: the tracking URI is the server's ARN, requests go to https://REGION.experiments.sagemaker.aws
 * (or $SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT, the plugin's override), carry the ARN in
 * x-mlflow-sm-tracking-server-arn and the body's SHA-256 in X-Amz-Content-SHA256, and are signed
 * for the service `sagemaker-mlflow` in the ARN's region. The signing itself is @smithy/signature-v4,
 * the AWS SDK's signer.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { UserError } from '../core/errors.js';

/** A parsed tracking-server ARN: arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME. */
export interface ManagedTrackingServer {
  arn: string;
  region: string;
  account: string;
  name: string;
  /** Where requests go. */
  baseUrl: string;
}

const ARN =
  /^arn:(aws|aws-us-gov):sagemaker:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):mlflow-tracking-server\/([A-Za-z0-9](?:[A-Za-z0-9-]{0,255}))$/;

/** True when the tracking URI names a SageMaker-managed MLflow server by its ARN. */
export function isTrackingServerArn(uri: string): boolean {
  return uri.startsWith('arn:');
}

/** Parses the ARN form of a tracking URI; a UserError (exit 2) when it is malformed. */
export function managedTrackingServer(uri: string, env: Record<string, string | undefined>): ManagedTrackingServer {
  const m = ARN.exec(uri);
  if (!m) {
    throw new UserError('MLFLOW_URI_INVALID', `"${uri}" is not a SageMaker MLflow tracking server ARN.`, {
      hint: 'Expected arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME (aws sagemaker describe-mlflow-tracking-server shows it).',
    });
  }
  const custom = env.SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT?.replace(/\/+$/, '');
  return { arn: uri, region: m[2], account: m[3], name: m[4], baseUrl: custom || `https://${m[2]}.experiments.sagemaker.aws` };
}

const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** SHA-256 and HMAC-SHA-256 in the shape the signer wants (update/digest, a secret for HMAC). */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What a request to sign is: the final URL (query already encoded as it will be sent), method, headers, body. */
export interface RequestToSign {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/**
 * The headers to add to a request so it is signed for the managed tracking server. Credentials
 * from the command's env (AWS_ACCESS_KEY_ID/...), else the SDK's default chain (profile, SSO, web
 * identity in CI, instance role).
 */
export function trackingServerSigner(server: ManagedTrackingServer, env: Record<string, string | undefined>) {
  let credentials: Promise<AwsCredentials> | undefined;
  const resolveCredentials = async (): Promise<AwsCredentials> => {
    const fromEnv = (await import('./aws.js')).envCredentials(env);
    if (fromEnv) return fromEnv;
    // Any client's config resolves the default credential chain; STS is the smallest one we ship.
    const { STSClient } = await import('@aws-sdk/client-sts');
    return new STSClient({ region: server.region }).config.credentials();
  };
  return async (req: RequestToSign): Promise<Record<string, string>> => {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    credentials ??= resolveCredentials();
    const signer = new SignatureV4({ service: 'sagemaker-mlflow', region: server.region, credentials: await credentials, sha256: Sha256 });
    const url = new URL(req.url);
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const headers: Record<string, string> = {
      ...req.headers,
      host: url.host,
      'x-mlflow-sm-tracking-server-arn': server.arn,
      'x-amz-content-sha256': createHash('sha256')
        .update(req.body ?? '')
        .digest('hex'),
    };
    const signed = await signer.sign({
      method: req.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      // The path as sent (percent-encoded); the signer escapes it once more, as botocore does for every service but S3.
      path: url.pathname,
      query,
      headers,
      body: req.body,
    });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers as Record<string, string>)) if (k !== 'host') out[k] = v;
    return out;
  };
}

/**
 * A query string as SigV4 canonicalises it (RFC 3986: only A-Z a-z 0-9 - _ . ~ unescaped), so the
 * URL sent and the URL signed are the same bytes.
 */
export function strictQueryString(params: Record<string, unknown> | undefined): string {
  if (!params) return '';
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    for (const x of Array.isArray(v) ? (v as unknown[]) : [v]) parts.push(`${enc(k)}=${enc(String(x))}`);
  }
  return parts.join('&');
}
