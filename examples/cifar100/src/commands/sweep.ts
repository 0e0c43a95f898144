import { TrainingAbortedError } from '@kd/trainer';
import { getPreset } from '../presets';
import { stepArguments, type CommandName, type RunConfig } from '../cli';
import type { CommandOutcome, Log } from './shared';

/** The commands that make a preset's result, in order. */
export function pipelineOf(config: RunConfig): CommandName[] {
  const steps: CommandName[] = ['train-teacher'];
  if (config.teacherKind === 'mcmi') steps.push('finetune-mcmi');
  steps.push(config.task);
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
  for (const name of config.sweepPresets ?? []) {
    const preset = { ...config, ...getPreset(name) };
    for (const command of pipelineOf(preset)) {
      const argv = stepArguments(command, name, config.flags);
      log(`sweep: ${argv.join(' ')}`);
      try {
        steps.push({ preset: name, command, outcome: await runStep(argv) });
      } catch (error) {
        // Ctrl-C stops the whole sweep; rerunning it continues the interrupted run.
        if (error instanceof TrainingAbortedError) throw error;
        const message = error instanceof Error ? error.message : String(error);
        log(`sweep: ${name} failed at ${command}: ${message}`);
        steps.push({ preset: name, command, error: message });
        break;
      }
    }
  }
  const failed = steps.filter((step) => step.error !== undefined);
  const ran = steps.filter((step) => step.outcome !== undefined && !step.outcome.skipped).length;
  const skipped = steps.filter((step) => step.outcome?.skipped).length;
  log(`sweep: ${ran} runs trained, ${skipped} already finished, ${failed.length} presets failed`);
  return steps;
}
