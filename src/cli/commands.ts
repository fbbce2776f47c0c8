/**
 * The declarative command table. Only metadata lives here, so `mlops --help` loads no command
 * module and no heavy dependency; `load` imports the module when the command runs.
 */
import type { CommandRun } from './context.js';

export interface OptionDef {
  flags: string;
  description: string;
  default?: string | boolean | number;
  choices?: string[];
}

export interface ArgDef {
  name: string;
  description: string;
  required?: boolean;
  variadic?: boolean;
}

export interface CommandDef {
  name: string;
  summary: string;
  /** Longer help text shown under the summary. */
  description?: string;
  examples: string[];
  args?: ArgDef[];
  options?: OptionDef[];
  load?: () => Promise<{ run: CommandRun }>;
  subcommands?: CommandDef[];
}

export const COMMANDS: CommandDef[] = [
  {
    name: 'config',
    summary: 'Check and show the resolved configuration',
    examples: ['mlops config validate', 'mlops config show --json'],
    subcommands: [
      {
        name: 'validate',
        summary: 'Validate the config file and report every problem with its place',
        examples: ['mlops config validate', 'mlops config validate --config ci/mlops.config.yaml'],
        load: () => import('../commands/config-validate.js'),
      },
      {
        name: 'show',
        summary: 'Print the resolved config (defaults filled, env interpolated, secrets redacted)',
        examples: ['mlops config show', 'mlops config show --json | jq .mlflow'],
        load: () => import('../commands/config-show.js'),
      },
    ],
  },
];
