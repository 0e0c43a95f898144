/**
 * kd-cifar100: the CIFAR-100 MCMI pipeline from the command line.
 *
 *   tsx src/main.ts <command> [flags]      (pnpm start <command> [flags], or the kd-cifar100 bin)
 */
import { pathToFileURL } from 'node:url';
import { selectBackend } from '@kd-example/common';
import type { SweepStatus } from '@kd-example/common/sweep-queue';
import { parseCommandLine, parseRunCommand, usage, type CommandName, type RunConfig } from './cli';
import { runPlan, type TrainingCommand } from './run-plan';
import { distillCommand } from './commands/distill';
import { eigencamCommand } from './commands/eigencam';
import { finetuneMcmiCommand } from './commands/finetune-mcmi';
import { markActiveRunAborted, type CommandContext, type CommandOutcome, type Log } from './commands/shared';
import { sweepCommand, type SweepStep } from './commands/sweep';
import { trainTeacherCommand } from './commands/train-teacher';
import { transferCommand } from './commands/transfer';
import { enqueueCommand, sweepStatusCommand, workerCommand } from './queue';

export interface RunOptions {
  /** Where messages go. Default stderr. */
  log?: Log;
  /** Stops training between two steps; the run keeps its last checkpoint. A worker runs until it aborts. */
  signal?: AbortSignal;
  /** Where a command's own output goes (sweep-status, --print-config). Default stdout. */
  print?: (text: string) => void;
}

/** What `sweep --queue` returns: the runs it added and those already queued. */
export interface EnqueueOutcome {
  added: string[];
  existing: string[];
}

/** Runs one step of the pipeline (a command other than sweep, worker and sweep-status) with `config`. */
export async function runCommand(
  name: CommandName,
  config: RunConfig,
  context: CommandContext,
): Promise<CommandOutcome> {
  switch (name) {
    case 'train-teacher':
      return trainTeacherCommand(config, context);
    case 'finetune-mcmi':
      return finetuneMcmiCommand(config, context);
    case 'distill':
    case 'few-shot':
    case 'zero-shot':
      return distillCommand(name, config, context);
    case 'transfer':
      return transferCommand(config, context);
    case 'eigencam':
      return eigencamCommand(config, context);
    case 'sweep':
    case 'worker':
    case 'sweep-status':
      throw new Error(`${name}: not a step of a sweep`);
  }
}

let backendReady: Promise<unknown> | undefined;

/**
 * Runs one command line (without `node main.ts`). Sweeps return their steps (queued sweeps what they added),
 * sweep-status the status; a worker returns once `options.signal` aborts; `--help` returns undefined.
 */
export async function runCommandLine(
  argv: readonly string[],
  options: RunOptions = {},
): Promise<CommandOutcome | SweepStep[] | EnqueueOutcome | SweepStatus | undefined> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const parsed = parseCommandLine(argv);
  if (parsed.kind === 'help') {
    log(usage(parsed.command));
    return undefined;
  }
  const { command, config } = parsed;
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  if (config.printConfig) {
    // Before the backend is chosen and any data is read: the plan is computed from the flags alone.
    print(JSON.stringify(runPlan(command as TrainingCommand, config), null, 2));
    return undefined;
  }
  const context: CommandContext = { log, ...(options.signal === undefined ? {} : { signal: options.signal }) };
  // Enqueueing and the status need no backend: they run on any machine that reaches Redis.
  if (command === 'sweep' && config.queue !== undefined) return enqueueCommand(config, log);
  if (command === 'sweep-status') return sweepStatusCommand(config.queue!, print);
  // One backend per process: a sweep's steps reuse it. The tfjs-node packages are imported from here, so they
  // resolve from this package's node_modules, where `pnpm add … --filter @kd-example/cifar100` puts them.
  backendReady ??= selectBackend({
    backend: config.backend,
    ...(config.threads === undefined ? {} : { threads: config.threads }),
    log,
    importModule: (specifier) => import(specifier),
  });
  await backendReady;
  if (command === 'worker') {
    const signal = options.signal ?? new AbortController().signal;
    await workerCommand(config, { log, signal, runStep: runCommand });
    return undefined;
  }
  if (command === 'sweep') {
    return sweepCommand(config, log, (stepArgv) =>
      runCommand(stepArgv[0] as CommandName, parseRunCommand(stepArgv).config, context),
    );
  }
  return runCommand(command, config, context);
}

/**
 * The SIGINT handler. First Ctrl-C: stop after the current step (the trainer marks the run 'aborted', its last
 * checkpoint intact). A second one marks the run 'aborted' in its run.json synchronously, then exits with 130.
 */
export function interruptHandler({
  controller,
  exit,
  write,
}: {
  controller: AbortController;
  exit: (code: number) => void;
  write: (text: string) => void;
}): () => void {
  return () => {
    if (controller.signal.aborted) {
      const directory = markActiveRunAborted(
        'interrupted by a second Ctrl-C (the last checkpoint is intact; rerun the command to continue)',
      );
      if (directory !== undefined) write(`\n${directory}: marked aborted; rerun the same command to continue\n`);
      exit(130);
      return;
    }
    write('\nstopping after this step (Ctrl-C again to quit now); rerun the same command to continue\n');
    controller.abort();
  };
}

/** The kd-cifar100 process: parses `process.argv`, handles Ctrl-C, sets the exit code. */
export async function main(): Promise<void> {
  const controller = new AbortController();
  process.on(
    'SIGINT',
    interruptHandler({ controller, exit: (code) => process.exit(code), write: (text) => process.stderr.write(text) }),
  );
  try {
    const outcome = await runCommandLine(process.argv.slice(2), { signal: controller.signal });
    if (Array.isArray(outcome) && outcome.some((step) => step.error !== undefined)) process.exitCode = 1;
    // sweep-status exits 0 only when every run of the sweep finished.
    if (outcome !== undefined && 'done' in outcome && !outcome.done) process.exitCode = 1;
  } catch (error) {
    process.stderr.write(`kd-cifar100: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
