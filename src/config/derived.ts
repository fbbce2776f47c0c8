/** Settings whose defaults come from other settings, read in one place by every command that needs them. */
import type { Config } from './schema.js';

/** Where SageMaker training jobs put code, data and output: train.sagemaker.outputPath, else deploy.artifacts + /training. */
export function trainingOutputPath(config: Config): string | undefined {
  return (
    config.train.sagemaker?.outputPath ?? (config.deploy?.artifacts ? `${config.deploy.artifacts.replace(/\/$/, '')}/training` : undefined)
  );
}
