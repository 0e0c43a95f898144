/**
 * Flag parsing and validation (node:util parseArgs). Every flag is checked before anything runs, and every
 * error names the flag and what is allowed.
 */
import { parseArgs } from 'node:util';
import { backendChoices, type BackendChoice } from '@kd-example/common';
import { parseQueueUrl, type QueueAddress } from '@kd-example/common/sweep-queue';
import { defaultDataDir } from '@kd/data/node';
import { listModels } from '@kd/models';
import { REFERENCE_WEIGHTS, defaultLearningRate, hasMethod, listMethods } from '@kd/trainer';
import {
  PRESETS,
  SWEEPS,
  ZERO_SHOT_PROTOCOLS,
  dkdBeta,
  getPreset,
  scaleMilestones,
  type Preset,
  type TeacherKind,
  type TransferDataset,
  type ZeroShotProtocol,
} from './presets';

export const COMMANDS = [
  'train-teacher',
  'finetune-mcmi',
  'distill',
  'few-shot',
  'zero-shot',
  'transfer',
  'eigencam',
  'sweep',
  'worker',
  'sweep-status',
] as const;
export type CommandName = (typeof COMMANDS)[number];

/** A preset with every flag applied, plus the run-time settings that are not part of a recipe. */
export interface RunConfig extends Preset {
  dataDir: string;
  outDir: string;
  /** Overrides the run directory's name. */
  runName: string | undefined;
  backend: BackendChoice;
  threads: number | undefined;
  download: boolean;
  /** true: the run must continue from a checkpoint; otherwise it continues when one exists. */
  resume: boolean;
  /** Use only the first N training / test samples (smoke runs). */
  limitTrain: number | undefined;
  limitTest: number | undefined;
  quiet: boolean;
  /** Print the resolved run configuration as JSON on stdout and exit, loading no data. */
  printConfig: boolean;
  allowCollapse: boolean;
  /** Run name or directory of the teacher (distill, few-shot, zero-shot, finetune-mcmi). */
  teacherRef: string | undefined;
  /** Run name or directory of the student (transfer). */
  studentRef: string | undefined;
  /** Run names or directories shown by eigencam. */
  checkpoints: string[] | undefined;
  /** Test images in the Eigen-CAM grid. */
  images: number;
  /** Presets a sweep runs, in order. */
  sweepPresets: string[] | undefined;
  /** The flags as given (a sweep passes them on to each step that accepts them). */
  flags: Array<[string, string | true]>;
  /** `--queue` and its companions (sweep, worker, sweep-status); undefined without `--queue`. */
  queue: QueueSettings | undefined;
}

/** Where a sweep's jobs go and how a worker treats them. */
export interface QueueSettings {
  address: QueueAddress;
  /** worker: jobs trained at once by this process. */
  concurrency: number;
  /** worker: seconds without a lock renewal before another worker takes the job. */
  stallSeconds: number;
  /** sweep: tries per run, and the wait before the first retry (doubled each time). */
  attempts: number;
  backoffSeconds: number;
  /** sweep-status: JSON instead of text. */
  json: boolean;
}

interface FlagSpec {
  type: 'string' | 'boolean';
  help: string;
}

const FLAGS = {
  preset: { type: 'string', help: 'preset name (see --help for the list)' },
  'data-dir': { type: 'string', help: 'dataset directory (default $KD_DATA_DIR or ~/.cache/kd/datasets)' },
  'out-dir': { type: 'string', help: 'where run directories go (default ./runs)' },
  'run-name': { type: 'string', help: 'name of the run directory (default derived from the preset)' },
  backend: { type: 'string', help: `${backendChoices.join(' | ')} (default auto)` },
  threads: { type: 'string', help: 'wasm threads' },
  download: { type: 'boolean', help: 'download missing datasets (verified by MD5)' },
  resume: { type: 'boolean', help: 'require a checkpoint to continue from (runs continue from one anyway)' },
  epochs: { type: 'string', help: 'epochs (milestones are rescaled)' },
  'batch-size': { type: 'string', help: 'mini-batch size' },
  lr: { type: 'string', help: 'initial learning rate' },
  'weight-decay': { type: 'string', help: 'weight decay' },
  seed: { type: 'string', help: 'seed of initialisation, shuffling and augmentation' },
  'limit-train': { type: 'string', help: 'use only the first N training samples (smoke runs)' },
  'limit-test': { type: 'string', help: 'use only the first N test samples' },
  lambda: { type: 'string', help: 'MCMI λ in CE − λ·CMI' },
  'allow-collapse': { type: 'boolean', help: 'keep fine-tuning when MCMI collapses (disables the guard)' },
  method: {
    type: 'string',
    help: `kd, or a method used with CE (${listMethods()
      .map(({ name }) => name)
      .filter((name) => name !== 'ce' && name !== 'kd')
      .join(', ')})`,
  },
  gamma: { type: 'string', help: "weight of CE (default: the method's reference γ)" },
  alpha: { type: 'string', help: "weight of KD (default: the method's reference α)" },
  beta: { type: 'string', help: 'weight of the added method (default: its reference weight)' },
  temperature: { type: 'string', help: 'KD temperature' },
  teacher: {
    type: 'string',
    help: 'teacher run name or directory, or a PyTorch checkpoint (.pth, .safetensors) of --teacher-model',
  },
  'teacher-model': { type: 'string', help: "teacher architecture instead of the preset's (e.g. resnet8)" },
  'student-model': { type: 'string', help: "student architecture instead of the preset's" },
  'teacher-kind': { type: 'string', help: 'mll | mcmi: which teacher run the default teacher is' },
  student: { type: 'string', help: 'student run name or directory (transfer)' },
  fraction: { type: 'string', help: 'few-shot fraction in (0, 1]' },
  omit: { type: 'string', help: 'zero-shot classes to omit, comma separated' },
  target: { type: 'string', help: 'stl10 | tiny-imagenet (transfer)' },
  checkpoints: { type: 'string', help: 'comma-separated run names or directories (eigencam)' },
  images: { type: 'string', help: 'number of test images in the grid (eigencam)' },
  presets: { type: 'string', help: 'comma-separated presets (sweep)' },
  sweep: { type: 'string', help: `named preset list (${Object.keys(SWEEPS).join(', ')})` },
  quiet: { type: 'boolean', help: 'no progress bar' },
  'print-config': {
    type: 'boolean',
    help: 'print the resolved run configuration as JSON and exit (loads no data, trains nothing)',
  },
  'zero-shot-protocol': {
    type: 'string',
    help: `${ZERO_SHOT_PROTOCOLS.join(' | ')}: drop the omitted classes inside each batch (default) or from the dataset`,
  },
  queue: {
    type: 'string',
    help: 'redis://[:password@]host:port/db or rediss:// (TLS): the BullMQ job queue of the sweep',
  },
  concurrency: { type: 'string', help: 'jobs this worker trains at once (default 1: one worker per GPU or core)' },
  'stall-seconds': {
    type: 'string',
    help: 'seconds without news from a worker before its job goes to another (default 60)',
  },
  attempts: { type: 'string', help: 'tries per run before it is marked failed (default 3)' },
  'backoff-seconds': {
    type: 'string',
    help: 'wait before the first retry of a failed run, doubled each time (default 30)',
  },
  json: { type: 'boolean', help: 'print JSON' },
  help: { type: 'boolean', help: 'show this help' },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

const COMMON: FlagName[] = [
  'preset',
  'data-dir',
  'out-dir',
  'backend',
  'threads',
  'download',
  'quiet',
  'help',
  'limit-test',
  'seed',
];
const TRAINING: FlagName[] = [
  'run-name',
  'resume',
  'epochs',
  'batch-size',
  'lr',
  'weight-decay',
  'limit-train',
  'teacher-model',
  'student-model',
  'print-config',
];
const DISTILL: FlagName[] = ['method', 'gamma', 'alpha', 'beta', 'temperature', 'teacher', 'teacher-kind', 'lambda'];

const COMMAND_FLAGS: Record<CommandName, FlagName[]> = {
  'train-teacher': [...COMMON, ...TRAINING],
  'finetune-mcmi': [...COMMON, ...TRAINING, 'lambda', 'allow-collapse', 'teacher'],
  distill: [...COMMON, ...TRAINING, ...DISTILL],
  'few-shot': [...COMMON, ...TRAINING, ...DISTILL, 'fraction'],
  'zero-shot': [...COMMON, ...TRAINING, ...DISTILL, 'omit', 'zero-shot-protocol'],
  // The student's default run name depends on how it was distilled: the same flags pick it.
  transfer: [...COMMON, ...TRAINING, 'student', 'target', 'teacher', 'teacher-kind', 'method', 'lambda'],
  eigencam: [
    ...COMMON,
    'run-name',
    'checkpoints',
    'images',
    'teacher-model',
    'student-model',
    'lambda',
    'method',
    'teacher',
    'teacher-kind',
  ],
  sweep: [
    ...COMMON,
    'presets',
    'sweep',
    'epochs',
    'batch-size',
    'limit-train',
    'allow-collapse',
    'method',
    'teacher-kind',
    'teacher-model',
    'student-model',
    'lambda',
    'queue',
    'attempts',
    'backoff-seconds',
  ],
  // A worker's flags are its machine's; everything about a run comes from the job.
  worker: [
    'queue',
    'concurrency',
    'stall-seconds',
    'data-dir',
    'out-dir',
    'backend',
    'threads',
    'download',
    'quiet',
    'help',
  ],
  'sweep-status': ['queue', 'json', 'help'],
};

const COMMAND_HELP: Record<CommandName, string> = {
  'train-teacher': "train the preset's teacher by cross-entropy (240 epochs, lr 0.05, step decay 150/180/210)",
  'finetune-mcmi': 'fine-tune a trained teacher with CE − λ·CMI (20 epochs, cosine lr 0.05, λ 0.25)',
  distill: "distill the preset's student from an MLL or MCMI teacher (γ·CE + α·KD [+ β·method])",
  'few-shot': 'distill from the first 5%…75% of the training set, epochs as long as the full set',
  'zero-shot': 'distill on CIFAR-10 without the omitted classes, report their test accuracy',
  transfer: 'linear probe of a distilled student on STL-10 / Tiny ImageNet (120 epochs, lr 0.05)',
  eigencam: 'grid PNG of Eigen-CAM maps of several checkpoints on the same test images',
  sweep:
    'run a list of presets one after another (teacher → MCMI → student), skipping finished runs; with --queue, enqueue them and return',
  worker: 'train the runs of a queued sweep until stopped (Ctrl-C), one worker per GPU or core',
  'sweep-status':
    'one line per run of a queued sweep (state, worker, epoch, best / last top-1); exits 0 only when all finished',
};

const DEFAULT_PRESET: Record<CommandName, string> = {
  'train-teacher': 'resnet32x4-resnet8x4',
  'finetune-mcmi': 'resnet32x4-resnet8x4',
  distill: 'resnet32x4-resnet8x4',
  'few-shot': 'few-shot-5',
  'zero-shot': 'zero-shot-9',
  transfer: 'wrn40_2-wrn16_2',
  eigencam: 'resnet32x4-resnet8x4',
  sweep: 'resnet32x4-resnet8x4',
  worker: 'resnet32x4-resnet8x4',
  'sweep-status': 'resnet32x4-resnet8x4',
};

/** Command-line arguments of one sweep step: the step, the preset, and the sweep's flags that the step accepts. */
export function stepArguments(
  step: CommandName,
  preset: string,
  flags: ReadonlyArray<[string, string | true]>,
): string[] {
  const allowed = new Set<string>(COMMAND_FLAGS[step]);
  const argv = [step, '--preset', preset];
  for (const [flag, value] of flags) {
    if (!allowed.has(flag)) continue;
    argv.push(`--${flag}`);
    if (value !== true) argv.push(value);
  }
  return argv;
}

/** Parses a command line that must run a command (tests, sweep steps): help requests are an error. */
export function parseRunCommand(argv: readonly string[]): { command: CommandName; config: RunConfig } {
  const parsed = parseCommandLine(argv);
  if (parsed.kind === 'help') throw new Error(`expected a command with flags, got a help request: ${argv.join(' ')}`);
  return parsed;
}

/** The usage text (`--help`). */
export function usage(command?: CommandName): string {
  const lines = ['usage: kd-cifar100 <command> [flags]', ''];
  if (command === undefined) {
    lines.push('commands:');
    for (const name of COMMANDS) lines.push(`  ${name.padEnd(14)} ${COMMAND_HELP[name]}`);
    lines.push('', 'presets:');
    for (const preset of PRESETS) lines.push(`  ${preset.name.padEnd(24)} ${preset.description}`);
    lines.push('', 'kd-cifar100 <command> --help lists the flags of a command.');
  } else {
    lines.push(`${command}: ${COMMAND_HELP[command]}`, '', 'flags:');
    for (const flag of COMMAND_FLAGS[command]) {
      const spec: FlagSpec = FLAGS[flag];
      lines.push(`  --${flag}${spec.type === 'string' ? ' <value>' : ''}`.padEnd(28) + spec.help);
    }
    lines.push('', `default preset: ${DEFAULT_PRESET[command]}`);
  }
  return lines.join('\n');
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function parseNumber(
  flag: string,
  text: string,
  {
    integer = false,
    positive = false,
    nonNegative = false,
    max,
  }: {
    integer?: boolean;
    positive?: boolean;
    nonNegative?: boolean;
    max?: number;
  } = {},
): number {
  // Decimal notation only: Number() would also read '0x2', '0b10', '0o7', ' 2 ' and 'Infinity'.
  const value = Number(text);
  if (!DECIMAL.test(text) || !Number.isFinite(value))
    throw new Error(`--${flag} must be a decimal number, got '${text}'`);
  if (integer && !Number.isInteger(value)) throw new Error(`--${flag} must be an integer, got ${text}`);
  if (positive && !(value > 0)) throw new Error(`--${flag} must be > 0, got ${text}`);
  if (nonNegative && !(value >= 0)) throw new Error(`--${flag} must be >= 0, got ${text}`);
  if (max !== undefined && value > max) throw new Error(`--${flag} must be <= ${max}, got ${text}`);
  return value;
}

function parseList(flag: string, text: string): string[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (items.length === 0) throw new Error(`--${flag} must list at least one comma-separated value, got '${text}'`);
  return items;
}

function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text))
    throw new Error(`--${flag} must be one of ${allowed.join(', ')}; got '${text}'`);
  return text as T;
}

/** A command to run, or a request for help (general, or about one command). */
export type ParsedCommand =
  | { kind: 'run'; command: CommandName; config: RunConfig }
  | { kind: 'help'; command: CommandName | undefined };

/**
 * Parses `argv` (without node and the script): the command, then flags. Throws with a message naming the flag.
 *
 * @example
 * parseCommandLine(['distill', '--preset', 'wrn40_2-wrn16_2', '--epochs', '10']);
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    return { kind: 'help', command: undefined };
  }
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new Error(`unknown command '${first}'; commands: ${COMMANDS.join(', ')} (kd-cifar100 --help)`);
  }
  const command = first as CommandName;
  if (rest.includes('--help') || rest.includes('-h')) return { kind: 'help', command };
  const allowed = new Set<string>(COMMAND_FLAGS[command]);
  let parsed: ReturnType<typeof parseArgs<{ options: typeof FLAGS; strict: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...rest], options: FLAGS, strict: true, allowPositionals: true });
  } catch (error) {
    throw new Error(`${command}: ${(error as Error).message} (kd-cifar100 ${command} --help lists the flags)`);
  }
  if (parsed.positionals.length > 0)
    throw new Error(`${command}: unexpected argument '${parsed.positionals[0]}'; flags start with --`);
  const values = parsed.values as Partial<Record<FlagName, string | boolean>>;
  for (const flag of Object.keys(values)) {
    if (!allowed.has(flag)) {
      throw new Error(
        `${command}: --${flag} does not apply to this command; its flags: ${[...allowed].map((name) => `--${name}`).join(' ')}`,
      );
    }
  }
  const text = (flag: FlagName): string | undefined => values[flag] as string | undefined;
  const flagOn = (flag: FlagName): boolean => values[flag] === true;

  const preset = getPreset(text('preset') ?? DEFAULT_PRESET[command]);
  const config: RunConfig = {
    ...preset,
    dataDir: text('data-dir') ?? defaultDataDir(),
    outDir: text('out-dir') ?? 'runs',
    runName: text('run-name'),
    backend: oneOf('backend', text('backend') ?? 'auto', backendChoices),
    threads:
      text('threads') === undefined
        ? undefined
        : parseNumber('threads', text('threads')!, { integer: true, positive: true }),
    download: flagOn('download'),
    resume: flagOn('resume'),
    limitTrain:
      text('limit-train') === undefined
        ? undefined
        : parseNumber('limit-train', text('limit-train')!, { integer: true, positive: true }),
    limitTest:
      text('limit-test') === undefined
        ? undefined
        : parseNumber('limit-test', text('limit-test')!, { integer: true, positive: true }),
    quiet: flagOn('quiet'),
    printConfig: flagOn('print-config'),
    allowCollapse: flagOn('allow-collapse'),
    teacherRef: text('teacher'),
    studentRef: text('student'),
    checkpoints: text('checkpoints') === undefined ? undefined : parseList('checkpoints', text('checkpoints')!),
    images:
      text('images') === undefined
        ? 8
        : parseNumber('images', text('images')!, { integer: true, positive: true, max: 64 }),
    sweepPresets: undefined,
    flags: Object.entries(values)
      .filter(([flag]) => !['preset', 'presets', 'sweep', 'help', 'print-config'].includes(flag))
      .map(([flag, value]) => [flag, value === true ? true : String(value)]),
    queue: undefined,
  };
  if (text('queue') !== undefined) {
    const positive = (flag: FlagName, fallback: number, integer: boolean): number =>
      text(flag) === undefined ? fallback : parseNumber(flag, text(flag)!, { integer, positive: true });
    config.queue = {
      address: parseQueueUrl(text('queue')!),
      concurrency: positive('concurrency', 1, true),
      stallSeconds: positive('stall-seconds', 60, false),
      attempts: positive('attempts', 3, true),
      backoffSeconds:
        text('backoff-seconds') === undefined
          ? 30
          : parseNumber('backoff-seconds', text('backoff-seconds')!, { nonNegative: true }),
      json: flagOn('json'),
    };
  } else if (command === 'worker' || command === 'sweep-status') {
    throw new Error(`${command}: pass --queue redis://host:port/db (the Redis of the sweep)`);
  } else if (text('attempts') !== undefined || text('backoff-seconds') !== undefined) {
    throw new Error(
      `${command}: --attempts and --backoff-seconds apply to a queued sweep; add --queue redis://host:port/db`,
    );
  }
  for (const [flag, where] of [
    ['data-dir', config.dataDir],
    ['out-dir', config.outDir],
  ] as const) {
    if (where.trim() === '') throw new Error(`--${flag} must not be empty`);
  }
  if (config.runName !== undefined && !/^[A-Za-z0-9._-]+$/.test(config.runName)) {
    throw new Error(`--run-name must use only letters, digits, '.', '_' and '-', got '${config.runName}'`);
  }
  if (text('epochs') !== undefined) {
    const epochs = parseNumber('epochs', text('epochs')!, { integer: true, positive: true });
    // One --epochs sets the length of whichever stage the command trains.
    if (command === 'finetune-mcmi') config.mcmiEpochs = epochs;
    else if (command === 'transfer') {
      config.transferMilestones = scaleMilestones(preset.transferMilestones, preset.transferEpochs, epochs);
      config.transferEpochs = epochs;
    } else {
      config.milestones = scaleMilestones(preset.milestones, preset.epochs, epochs);
      config.epochs = epochs;
    }
  }
  if (text('batch-size') !== undefined)
    config.batchSize = parseNumber('batch-size', text('batch-size')!, { integer: true, positive: true });
  if (text('lr') !== undefined) {
    const learningRate = parseNumber('lr', text('lr')!, { positive: true });
    if (command === 'train-teacher') config.teacherLearningRate = learningRate;
    else if (command === 'finetune-mcmi') config.mcmiLearningRate = learningRate;
    else if (command === 'transfer') config.transferLearningRate = learningRate;
    else config.studentLearningRate = learningRate;
  }
  if (text('weight-decay') !== undefined) {
    const weightDecay = parseNumber('weight-decay', text('weight-decay')!, { nonNegative: true });
    if (command === 'transfer') config.transferWeightDecay = weightDecay;
    else config.weightDecay = weightDecay;
  }
  if (text('seed') !== undefined)
    config.seed = parseNumber('seed', text('seed')!, { integer: true, nonNegative: true });
  if (text('lambda') !== undefined) config.mcmiLambda = parseNumber('lambda', text('lambda')!, { positive: true });
  if (text('method') !== undefined) {
    const method = text('method')!;
    if (!hasMethod(method) || method === 'ce') {
      throw new Error(
        `--method must be one of ${listMethods()
          .map(({ name }) => name)
          .filter((name) => name !== 'ce')
          .join(', ')}; got '${method}'`,
      );
    }
    config.method = method;
  }
  // γ, α, β: the method's reference weights (one table, REFERENCE_WEIGHTS of @kd/trainer), then the flags.
  const reference = REFERENCE_WEIGHTS[config.method];
  if (reference === undefined && text('beta') === undefined && COMMAND_FLAGS[command].includes('beta')) {
    throw new Error(
      `--method ${config.method} has no reference weight (RepDistiller's scripts do not run it); pass --beta`,
    );
  }
  for (const key of ['gamma', 'alpha', 'beta'] as const) {
    config[key] =
      text(key) !== undefined
        ? parseNumber(key, text(key)!, { nonNegative: true })
        : (reference?.[key] ?? (key === 'gamma' ? 1 : 0));
  }
  if (text('temperature') !== undefined)
    config.temperature = parseNumber('temperature', text('temperature')!, { positive: true });
  if (text('teacher-kind') !== undefined)
    config.teacherKind = oneOf<TeacherKind>('teacher-kind', text('teacher-kind')!, ['mll', 'mcmi']);
  if (text('fraction') !== undefined)
    config.fewShotFraction = parseNumber('fraction', text('fraction')!, { positive: true, max: 1 });
  if (text('omit') !== undefined) {
    const classes = parseList('omit', text('omit')!).map((item) =>
      parseNumber('omit', item, { integer: true, nonNegative: true, max: 9 }),
    );
    if (new Set(classes).size !== classes.length) throw new Error(`--omit lists a class twice: ${text('omit')}`);
    if (classes.length >= 10) throw new Error('--omit must leave at least one CIFAR-10 class');
    config.omittedClasses = classes;
  }
  if (text('zero-shot-protocol') !== undefined) {
    config.zeroShotProtocol = oneOf<ZeroShotProtocol>(
      'zero-shot-protocol',
      text('zero-shot-protocol')!,
      ZERO_SHOT_PROTOCOLS,
    );
  }
  if (text('target') !== undefined)
    config.transferDataset = oneOf<TransferDataset>('target', text('target')!, ['stl10', 'tiny-imagenet']);
  if (command === 'few-shot' && config.fewShotFraction === null) {
    throw new Error(
      `few-shot: preset '${preset.name}' has no few-shot fraction; pass --fraction (e.g. 0.05) or a few-shot-* preset`,
    );
  }
  if (command === 'zero-shot') {
    if (config.omittedClasses.length === 0) {
      throw new Error(`zero-shot: preset '${preset.name}' omits no class; pass --omit 9,7 or a zero-shot-* preset`);
    }
    if (config.dataset !== 'cifar10')
      throw new Error(`zero-shot: the protocol runs on CIFAR-10; preset '${preset.name}' is ${config.dataset}`);
  }
  if (command === 'sweep') {
    if (text('presets') !== undefined && text('sweep') !== undefined)
      throw new Error('sweep: pass either --presets or --sweep, not both');
    if (text('sweep') !== undefined)
      config.sweepPresets = [...(SWEEPS[oneOf('sweep', text('sweep')!, Object.keys(SWEEPS))] ?? [])];
    else if (text('presets') !== undefined) config.sweepPresets = parseList('presets', text('presets')!);
    else throw new Error(`sweep: pass --presets a,b,c or --sweep ${Object.keys(SWEEPS).join('|')}`);
    for (const name of config.sweepPresets) getPreset(name);
  }
  const models = new Set(listModels());
  if (text('teacher-model') !== undefined) {
    config.teacher = oneOf('teacher-model', text('teacher-model')!, [...models]);
    config.teacherLearningRate =
      text('lr') !== undefined && command === 'train-teacher'
        ? config.teacherLearningRate
        : defaultLearningRate(config.teacher);
  }
  if (text('student-model') !== undefined) {
    config.student = oneOf('student-model', text('student-model')!, [...models]);
    const studentLrGiven =
      text('lr') !== undefined && !['train-teacher', 'finetune-mcmi', 'transfer'].includes(command);
    if (!studentLrGiven) config.studentLearningRate = defaultLearningRate(config.student);
  }
  config.dkdBeta = dkdBeta(config.teacher, config.student);
  for (const [role, name] of [
    ['teacher', config.teacher],
    ['student', config.student],
  ] as const) {
    if (!models.has(name))
      throw new Error(`preset '${preset.name}': unknown ${role} model '${name}'; known: ${[...models].join(', ')}`);
  }
  return { kind: 'run', command, config };
}
