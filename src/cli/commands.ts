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
    name: 'pull',
    summary: 'Fetch the DVC-versioned data (dvc pull with the remote, targets and jobs from config)',
    description:
      'Runs `dvc pull` (the `dvc` on PATH) in the folder of the config file, with `data.remote`,\n' +
      '`data.targets` and `data.jobs` from config (flags and arguments override them), and streams\n' +
      "DVC's output. Each DVC failure exits 3 with a message saying what to do: DVC not installed,\n" +
      'not a DVC repository, no remote configured, unknown remote, missing remote plugin,\n' +
      'authentication failure, files missing from the remote.',
    examples: ['mlops pull', 'mlops pull data/raw.csv.dvc --jobs 8', 'mlops pull --remote backup --dry-run'],
    args: [{ name: 'targets', description: 'DVC targets to pull (default: data.targets, else everything)', variadic: true }],
    options: [
      { flags: '-r, --remote <name>', description: 'DVC remote to pull from (default: data.remote, else the default remote)' },
      { flags: '-j, --jobs <n>', description: 'parallel download jobs (default: data.jobs, else DVC\'s default)' },
      { flags: '--dry-run', description: 'print the dvc command instead of running it', default: false },
    ],
    load: () => import('../commands/pull.js'),
  },
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
