import { describe, expect, it } from 'vitest';
import { isSecretKey, redactObject, Redactor, REDACTED } from '../../src/core/redact.js';

describe('isSecretKey', () => {
  it.each([
    'token',
    'MLFLOW_TRACKING_TOKEN',
    'MLFLOW_TRACKING_PASSWORD',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'apiKey',
    'api_key',
    'APIKey',
    'secretKey',
    'privateKey',
    'ssh-key',
    'key',
    'dbPassword',
    'clientSecret',
    'accessToken',
    'credentials',
    'passphrase',
  ])('%s is a secret', (k) => expect(isSecretKey(k)).toBe(true));

  it.each([
    'registeredModel',
    'monkey',
    'keyboard',
    'tokenizer',
    'maxTokens',
    'AWS_ACCESS_KEY_ID',
    'keyId',
    'PWD',
    'project',
    'trackingUri',
    'MLFLOW_TRACKING_USERNAME',
    'turkey',
  ])('%s is not a secret', (k) => expect(isSecretKey(k)).toBe(false));
});

describe('redactObject', () => {
  it('masks secret-named values deeply and keeps the rest', () => {
    const out = redactObject({
      mlflow: { token: 'abc', trackingUri: 'http://x' },
      list: [{ apiKey: 'k' }],
      registeredModel: 'm',
      empty: { password: '' },
    });
    expect(out).toEqual({
      mlflow: { token: REDACTED, trackingUri: 'http://x' },
      list: [{ apiKey: REDACTED }],
      registeredModel: 'm',
      empty: { password: '' },
    });
  });
});

describe('Redactor', () => {
  it('masks registered values from an env, wherever they appear, also JSON- and URL-encoded', () => {
    const r = new Redactor();
    r.addFromObject({
      MLFLOW_TRACKING_TOKEN: 'tok"en/42',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG',
      HOME: '/home/me',
      SHORT_TOKEN: 'ab',
    });
    expect(r.redact('auth tok"en/42 and wJalrXUtnFEMI/K7MDENG in /home/me')).toBe(`auth ${REDACTED} and ${REDACTED} in /home/me`);
    expect(r.redact(JSON.stringify({ t: 'tok"en/42' }))).toBe(`{"t":"${REDACTED}"}`);
    expect(r.redact(`?t=${encodeURIComponent('tok"en/42')}`)).toBe(`?t=${REDACTED}`);
    expect(r.redact('ab')).toBe('ab');
  });

  it('ignores flag-like and small numeric values, which would mangle ordinary output', () => {
    const r = new Redactor();
    r.addFromObject({ HF_HUB_DISABLE_TOKEN: 'true', SOME_TOKEN_TTL_KEY: '3600', ANOTHER_SECRET: 'false' });
    expect(r.redact('{"ksRobust": true, "ttl": 3600, "x": false}')).toBe('{"ksRobust": true, "ttl": 3600, "x": false}');
  });

  it('masks credential-shaped text it was not told about', () => {
    const r = new Redactor();
    expect(r.redact('Authorization: Bearer eyJhbGciOi.x.y')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(r.redact('key AKIAIOSFODNN7EXAMPLE')).toBe(`key ${REDACTED}`);
    expect(r.redact('https://user:hunter2@mlflow.example.com/')).toBe(`https://user:${REDACTED}@mlflow.example.com/`);
  });

  it('masks the longest secret first', () => {
    const r = new Redactor();
    r.add('secret');
    r.add('secret-plus');
    expect(r.redact('secret-plus secret')).toBe(`${REDACTED} ${REDACTED}`);
  });
});
