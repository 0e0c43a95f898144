import { TrainingAbortedError } from '@kd/trainer';
import { getPreset } from '../presets';
import { parseRunCommand, stepArguments, type CommandName, type RunConfig } from '../cli';
import type { CommandOutcome, Log } from './shared';

/** The commands that make a preset's result, in order. */
export function pipelineOf(config: RunConfig): CommandName[] {
  const steps: CommandName[] = ['train-teacher'];
  if (config.teacherKind === 'mcmi') steps.push('finetune-mcmi');
  steps.push(config.task);
  return steps;
}

/**
 * The steps of a sweep in order, each as the command line it runs: the preset's task step decides the pipeline
 * (its `--teacher-kind` says whether an MCMI fine-tune is needed), `flags` are the sweep's flags to pass on.
 */
export function sweepSteps(
  config: RunConfig,
  flags: ReadonlyArray<[string, string | true]> = config.flags,
): Array<{ preset: string; command: CommandName; argv: string[] }> {
  const steps: Array<{ preset: string; command: CommandName; argv: string[] }> = [];
  for (const name of config.sweepPresets ?? []) {
    const task = parseRunCommand(stepArguments(getPreset(name).task, name, flags)).config;
    for (const command of pipelineOf(task))
      steps.push({ preset: name, command, argv: stepArguments(command, name, flags) });
  }
  return steps;
}

export interface SweepStep {
  preset: string;
  command: CommandName;
  outcome?: CommandOutcome;
  error?: string;
}

/**
 * `sweep`: for each preset, train-teacher → finetune-mcmi (MCMI teachers) → distill / few-shot / zero-shot, each
 * with the sweep's flags that apply to it. Finished runs are skipped (teachers shared by presets train once);
 * a failed preset is reported and the sweep goes on with the next one.
 */
export async function sweepCommand(
  config: RunConfig,
  log: Log,
  runStep: (argv: string[]) => Promise<CommandOutcome>,
): Promise<SweepStep[]> {
  const steps: SweepStep[] = [];
  const failedPresets = new Set<string>();
  for (const { preset: name, command, argv } of sweepSteps(config)) {
    if (failedPresets.has(name)) continue;
    log(`sweep: ${argv.join(' ')}`);
    try {
      steps.push({ preset: name, command, outcome: await runStep(argv) });
    } catch (error) {
      // Ctrl-C stops the whole sweep; rerunning it continues the interrupted run.
      if (error instanceof TrainingAbortedError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      log(`sweep: ${name} failed at ${command}: ${message}`);
      steps.push({ preset: name, command, error: message });
      failedPresets.add(name);
    }
  }
  const failed = steps.filter((step) => step.error !== undefined);
  const ran = steps.filter((step) => step.outcome !== undefined && !step.outcome.skipped).length;
  const skipped = steps.filter((step) => step.outcome?.skipped).length;
  log(`sweep: ${ran} runs trained, ${skipped} already finished, ${failed.length} presets failed`);
  return steps;
}
