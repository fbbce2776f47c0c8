/**
 * s3:// URIs: the one parser, pure so core (the deployment store) and the adapters share it.
 */
import type { S3Location } from './ports.js';

/** Parses s3://bucket/prefix into its parts (prefix without leading or trailing slash). */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new RangeError(`not an S3 URI: ${uri}`);
  return { bucket: m[1], prefix: m[2].replace(/^\/+|\/+$/g, '') };
}

/** Joins key parts with "/", skipping empty ones (an empty prefix is the bucket root). */
export function joinKey(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}
