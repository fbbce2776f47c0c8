import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { handleCloudWatch, MetricStore } from '../../src/emulator/cloudwatch-front.js';

// A stand-in for moto behind the front: it answers every forwarded call with 200.
let moto: Server;
let motoUrl: string;
beforeAll(async () => {
  moto = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'));
  await new Promise<void>((r) => moto.listen(0, '127.0.0.1', r));
  motoUrl = `http://127.0.0.1:${(moto.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => moto.close(() => r())));

describe("the emulator's CloudWatch front", () => {
  it('reads a gzipped PutMetricData body (the SDK compresses bodies of 10 KB and more)', async () => {
    const store = new MetricStore();
    const data = Array.from({ length: 80 }, (_, i) => ({
      MetricName: 'FeatureDrift',
      Value: i / 100,
      Unit: 'None',
      Timestamp: 1_800_000_000,
      Dimensions: [
        { Name: 'EndpointName', Value: 'ep' },
        { Name: 'VariantName', Value: 'AllTraffic' },
        { Name: 'Feature', Value: `feature_with_a_long_name_${i}` },
      ],
    }));
    const body = gzipSync(Buffer.from(JSON.stringify({ Namespace: 'mlops', MetricData: data })));
    const answer = await handleCloudWatch(
      { store, cloudWatch: {} as CloudWatchClient, motoUrl },
      { 'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData', 'content-encoding': 'gzip' },
      body,
    );
    expect(answer.status).toBe(200);
    const points = store.select(
      'mlops',
      'FeatureDrift',
      { EndpointName: 'ep', VariantName: 'AllTraffic', Feature: 'feature_with_a_long_name_7' },
      () => true,
    );
    expect(points).toHaveLength(1);
  });
});
