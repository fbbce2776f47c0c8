import { describe, expect, it } from 'vitest';
import { awsSettings } from '../../src/adapters/aws.js';
import { stackEnv } from '../../src/sandbox/local-stack.js';
import { configSchema } from '../../src/config/schema.js';

const config = (endpoints: Record<string, string> = {}) => configSchema.parse({ aws: { endpoints } });

describe('awsSettings endpoints: config > AWS_ENDPOINT_URL_<SERVICE> > AWS_ENDPOINT_URL', () => {
  it('takes the service-specific variables, then the global one', () => {
    const s = awsSettings(config(), {
      AWS_ENDPOINT_URL: 'http://all:1',
      AWS_ENDPOINT_URL_SAGEMAKER: 'http://sm:2',
      AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: 'http://rt:3',
    });
    expect(s.endpoints).toEqual({
      s3: 'http://all:1',
      cloudwatch: 'http://all:1',
      iam: 'http://all:1',
      sts: 'http://all:1',
      ecr: 'http://all:1',
      sagemaker: 'http://sm:2',
      sagemakerRuntime: 'http://rt:3',
    });
  });

  it('the config wins over the environment', () => {
    const s = awsSettings(config({ s3: 'http://cfg:9', sagemaker: 'http://cfgsm:9' }), {
      AWS_ENDPOINT_URL_S3: 'http://env:1',
      AWS_ENDPOINT_URL: 'http://all:1',
    });
    expect(s.endpoints).toMatchObject({
      s3: 'http://cfg:9',
      sagemaker: 'http://cfgsm:9',
      sagemakerRuntime: 'http://cfgsm:9',
      cloudwatch: 'http://all:1',
    });
  });

  it('no variables and no config: no overrides (the SDK default endpoints)', () => {
    expect(awsSettings(config(), {}).endpoints).toEqual({});
  });

  it('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores the variables', () => {
    expect(awsSettings(config(), { AWS_ENDPOINT_URL: 'http://all:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).endpoints).toEqual({});
  });

  it('what `mlops sandbox env` prints resolves to moto for S3, the emulator for SageMaker and CloudWatch (its front over moto)', () => {
    const env = stackEnv({ mlflow: 'http://127.0.0.1:1', moto: 'http://127.0.0.1:2', emulator: 'http://127.0.0.1:3' });
    expect(awsSettings(config(), env)).toMatchObject({
      region: 'us-east-1',
      endpoints: {
        s3: 'http://127.0.0.1:2',
        cloudwatch: 'http://127.0.0.1:3',
        sagemaker: 'http://127.0.0.1:3',
        sagemakerRuntime: 'http://127.0.0.1:3',
      },
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
  });
});
