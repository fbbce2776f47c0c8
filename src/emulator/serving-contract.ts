/**
 * What MLflow's SageMaker serving image needs to start, checked before the emulator starts a
 * scoring server, so a model that would crash that container fails here too (at endpoint creation
 * or update, as on SageMaker, never at CreateModel). The rules are those of the image's entrypoint,
 * `_serve` in mlflow/models/container/__init__.py (MLflow 3.x):
 *
 * - it loads `/opt/ml/model/MLmodel`, where SageMaker unpacks model.tar.gz: MLmodel must be at the
 *   archive's root and be valid YAML;
 * - it reads `MLFLOW_DEPLOYMENT_FLAVOR_NAME` (absent means python_function: "Older versions of
 *   mlflow may not specify a deployment configuration"). `mleap` starts MLeap's Java scoring
 *   server, which the emulator does not run; any other value takes the pyfunc path;
 * - the pyfunc path raises "This container only supports models with the MLeap or PyFunc flavors."
 *   unless MLmodel's `flavors` has `python_function`.
 *
 * `SERVING_ENVIRONMENT` is informational (nothing in the image reads it), and the env manager is
 * baked into the image's entrypoint, not the container's environment, so neither is checked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const PYFUNC = 'python_function';
const MLEAP = 'mleap';

/** Why the container's environment would not serve this model on the pyfunc image, or undefined. */
export function environmentRefusal(environment: Record<string, string>): string | undefined {
  const flavor = environment.MLFLOW_DEPLOYMENT_FLAVOR_NAME;
  if (flavor === MLEAP) {
    return `MLFLOW_DEPLOYMENT_FLAVOR_NAME is "${MLEAP}": the image would start MLeap's Java scoring server, which the emulator does not run; mlops deploys "${PYFUNC}"`;
  }
  return undefined;
}

/** Why an unpacked model.tar.gz would not start on the pyfunc image, or undefined. */
export function archiveRefusal(modelDir: string): string | undefined {
  const file = join(modelDir, 'MLmodel');
  if (!existsSync(file)) {
    return 'no MLmodel file at the root of the model data archive (SageMaker unpacks it into /opt/ml/model, where the image reads /opt/ml/model/MLmodel)';
  }
  let model: unknown;
  try {
    model = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return `MLmodel is not valid YAML: ${(err as Error).message}`;
  }
  const flavors = (model as { flavors?: unknown } | null)?.flavors;
  const names = flavors && typeof flavors === 'object' ? Object.keys(flavors) : [];
  if (!names.includes(PYFUNC)) {
    return `MLmodel has no ${PYFUNC} flavor (flavors: ${names.join(', ') || 'none'}): "This container only supports models with the MLeap or PyFunc flavors."`;
  }
  return undefined;
}
