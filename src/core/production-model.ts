/**
 * Which model is production: one answer for compare, promote, rollback, monitor and status.
 * The registered model is mlflow.registeredModel, else the project name; production is the
 * alias compare.baseline names (when it names an alias), else `production`. promote moves that
 * alias, rollback restores it, compare and monitor read it.
 */
import type { BaselineSpec } from './baseline.js';
import { UserError } from './errors.js';

export const DEFAULT_PRODUCTION_ALIAS = 'production';

/** The config fields the answer depends on (the schema's Config is assignable). */
export interface ProductionModelConfig {
  project?: string;
  mlflow: { registeredModel?: string };
  compare: { baseline: BaselineSpec };
}

export interface ProductionModel {
  registeredModel: string;
  alias: string;
}

/** mlflow.registeredModel, else the project name; undefined when neither is set. */
export function registeredModelName(config: ProductionModelConfig): string | undefined {
  return config.mlflow.registeredModel ?? config.project;
}

/** The alias that names production: compare.baseline's alias, else `production`. */
export function productionAlias(config: ProductionModelConfig): string {
  const spec = config.compare.baseline;
  return 'alias' in spec ? spec.alias : DEFAULT_PRODUCTION_ALIAS;
}

/** The production model's registered name and alias; UserError (exit 2) without a name. */
export function productionModel(config: ProductionModelConfig): ProductionModel {
  const registeredModel = registeredModelName(config);
  if (!registeredModel) {
    throw new UserError(
      'REGISTERED_MODEL_MISSING',
      'No registered model name: the config sets neither mlflow.registeredModel nor project.',
      {
        hint: 'Set mlflow.registeredModel (or project) in the config.',
      },
    );
  }
  return { registeredModel, alias: productionAlias(config) };
}
