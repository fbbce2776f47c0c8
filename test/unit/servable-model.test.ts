/** The packager refuses, before anything is uploaded, a model MLflow's pyfunc serving image cannot start. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { servableModelRoot } from '../../src/adapters/model-package.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A temporary folder from a file-tree literal. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-servable-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('servableModelRoot', () => {
  it('finds MLmodel at the top or one level down when the model has python_function', async () => {
    const top = tree({ MLmodel: 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn: {}\n' });
    expect(await servableModelRoot(top)).toBe(top);
    const nested = tree({ 'model/MLmodel': 'flavors:\n  python_function: {}\n' });
    expect(await servableModelRoot(nested)).toBe(join(nested, 'model'));
  });

  it('refuses a model without the python_function flavor, naming the flavors it has', async () => {
    const dir = tree({ MLmodel: 'flavors:\n  sklearn:\n    pickled_model: model.pkl\n' });
    await expect(servableModelRoot(dir)).rejects.toMatchObject({
      code: 'MODEL_NOT_PYFUNC',
      message: expect.stringContaining('flavors: sklearn'),
    });
  });

  it('refuses artifacts without MLmodel, and an MLmodel that is not YAML', async () => {
    await expect(servableModelRoot(tree({ 'model.pkl': 'x' }))).rejects.toMatchObject({ code: 'MODEL_NOT_MLFLOW' });
    await expect(servableModelRoot(tree({ MLmodel: 'flavors: [unclosed' }))).rejects.toMatchObject({ code: 'MODEL_NOT_MLFLOW' });
  });
});
