/**
 * Typed presets, one flat config per run family (nanoGPT/flax style): every number a command uses is here, and
 * a flag overrides a field for one run. Values follow RepDistiller's CIFAR recipe (train_teacher.py,
 * train_student.py, run_cifar_distill.sh), the MCMI repository's scripts, mdistiller's DKD configs and ICD's
 * transfer_student.py for the linear probe.
 */
import { CIFAR100_NORMALIZATION, CIFAR10_NORMALIZATION, type Normalization } from '@kd/data';
import { REFERENCE_WEIGHTS, defaultLearningRate, type MethodName } from '@kd/trainer';

export type SourceDataset = 'cifar100' | 'cifar10';
export type TransferDataset = 'stl10' | 'tiny-imagenet';
export type TeacherKind = 'mll' | 'mcmi';
/** Which distillation command a preset is made for (`sweep` runs the matching pipeline). */
export type PresetTask = 'distill' | 'few-shot' | 'zero-shot';
/**
 * How zero-shot leaves classes out. 'mask-batches' (the MCMI authors' ZeroShot code): the loader goes over the
 * full training set and the omitted classes' samples are dropped inside each mini-batch, so an epoch has as many
 * steps as on the full set (with smaller batches). 'omit-samples': the samples are removed from the dataset,
 * so an epoch has fewer steps (up to 2.5× fewer with 6 of 10 classes omitted).
 */
export type ZeroShotProtocol = 'mask-batches' | 'omit-samples';
export const ZERO_SHOT_PROTOCOLS: readonly ZeroShotProtocol[] = ['mask-batches', 'omit-samples'];

export interface Preset {
  name: string;
  description: string;
  task: PresetTask;
  dataset: SourceDataset;
  teacher: string;
  student: string;
  seed: number;

  /** Per-channel normalisation after x/255 (CIFAR-100's statistics; the MCMI authors' for zero-shot CIFAR-10). */
  normalization: Normalization;

  // Recipe shared by train-teacher and distill (RepDistiller): SGD momentum 0.9, step decay ×0.1.
  epochs: number;
  batchSize: number;
  weightDecay: number;
  momentum: number;
  /** Epochs after which the rate is multiplied by 0.1; rescaled proportionally when `--epochs` changes. */
  milestones: number[];
  /** 0.05 (every teacher of the zoo is a ResNet/WRN/VGG). */
  teacherLearningRate: number;
  /** 0.05, or 0.01 for MobileNetV2 and the ShuffleNets. */
  studentLearningRate: number;

  // MCMI fine-tuning of the teacher: CE − λ·Î, cosine schedule.
  mcmiLambda: number;
  mcmiEpochs: number;
  mcmiLearningRate: number;

  // Student objective: γ·CE + α·KD(T) + β·method (β unused for method 'kd'). γ, α, β are the method's
  // reference weights (REFERENCE_WEIGHTS of @kd/trainer) unless --gamma/--alpha/--beta are given.
  teacherKind: TeacherKind;
  method: MethodName;
  gamma: number;
  alpha: number;
  beta: number;
  temperature: number;
  /** DKD's β (weight of NCKD) for this pair, mdistiller's per-pair value (its α is 1, T 4, warm-up 20 epochs). */
  dkdBeta: number;

  // few-shot: the first fraction of the training split ('head'), epochs as long as the full split.
  fewShotFraction: number | null;
  // zero-shot: classes the student never sees, and how they are left out.
  omittedClasses: number[];
  zeroShotProtocol: ZeroShotProtocol;

  // transfer: linear probe (ICD's transfer_student.py).
  transferDataset: TransferDataset;
  transferEpochs: number;
  transferLearningRate: number;
  transferMilestones: number[];
  transferWeightDecay: number;
}

/** The λ grid of the MCMI repository's zero-shot scripts (run2…run7.sh); 0.25 is the default of every other script. */
export const MCMI_LAMBDA_SWEEP: readonly number[] = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35];
/** Few-shot fractions of the MCMI repository's fst.txt table used here. */
export const FEW_SHOT_FRACTIONS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 0.75];
/** Zero-shot omitted class sets on CIFAR-10 (ZeroShot/scripts @4e61279). */
export const ZERO_SHOT_CLASS_SETS: readonly (readonly number[])[] = [
  [9],
  [9, 7],
  [9, 7, 5],
  [9, 7, 5, 3, 1],
  [9, 7, 5, 3, 1, 0],
];
/** The standard teacher → student pairs of RepDistiller / CRD / ICD. */
export const STANDARD_PAIRS: readonly (readonly [string, string])[] = [
  ['resnet32x4', 'resnet8x4'],
  ['wrn40_2', 'wrn16_2'],
  ['resnet56', 'resnet20'],
  ['resnet110', 'resnet20'],
  ['resnet110', 'resnet32'],
  ['vgg13', 'vgg8'],
  ['vgg13', 'mobilenetv2'],
  ['resnet50', 'mobilenetv2'],
  ['resnet50', 'vgg8'],
  ['resnet32x4', 'shufflev1'],
  ['resnet32x4', 'shufflev2'],
  ['wrn40_2', 'shufflev1'],
  ['wrn40_2', 'wrn40_1'],
];

/**
 * mdistiller's DKD β per CIFAR-100 pair: 2 with a resnet56 or resnet110 teacher, 6 with a vgg13 teacher and for
 * the WRN → WRN pairs, 8 for the others.
 */
export function dkdBeta(teacher: string, student: string): number {
  if (teacher === 'resnet56' || teacher === 'resnet110') return 2;
  if (teacher === 'vgg13' || (teacher.startsWith('wrn') && student.startsWith('wrn'))) return 6;
  return 8;
}

/**
 * CIFAR-10 as the MCMI authors' zero-shot code normalises it: the usual mean, and the std (0.2023, 0.1994,
 * 0.2010) that their transforms use (not the all-pixel std of @kd/data's CIFAR10_NORMALIZATION).
 */
export const ZERO_SHOT_CIFAR10_NORMALIZATION: Normalization = {
  mean: [...CIFAR10_NORMALIZATION.mean],
  std: [0.2023, 0.1994, 0.201],
};

const KD_WEIGHTS = REFERENCE_WEIGHTS.kd!;

function recipe(teacher: string, student: string): Omit<Preset, 'name' | 'description' | 'task' | 'dataset'> {
  return {
    teacher,
    student,
    seed: 0,
    normalization: CIFAR100_NORMALIZATION,
    epochs: 240,
    batchSize: 64,
    weightDecay: 5e-4,
    momentum: 0.9,
    milestones: [150, 180, 210],
    teacherLearningRate: defaultLearningRate(teacher),
    studentLearningRate: defaultLearningRate(student),
    mcmiLambda: 0.25,
    mcmiEpochs: 20,
    mcmiLearningRate: 0.05,
    teacherKind: 'mcmi',
    method: 'kd',
    gamma: KD_WEIGHTS.gamma,
    alpha: KD_WEIGHTS.alpha,
    beta: KD_WEIGHTS.beta,
    temperature: 4,
    dkdBeta: dkdBeta(teacher, student),
    fewShotFraction: null,
    omittedClasses: [],
    zeroShotProtocol: 'mask-batches',
    transferDataset: 'stl10',
    transferEpochs: 120,
    transferLearningRate: 0.05,
    transferMilestones: [30, 60, 90],
    transferWeightDecay: 5e-4,
  };
}

function buildPresets(): Preset[] {
  const presets: Preset[] = STANDARD_PAIRS.map(([teacher, student]) => ({
    name: `${teacher}-${student}`,
    description: `CIFAR-100, ${teacher} → ${student}, KD from the MCMI teacher (λ 0.25)`,
    task: 'distill',
    dataset: 'cifar100',
    ...recipe(teacher, student),
  }));
  for (const fraction of FEW_SHOT_FRACTIONS) {
    presets.push({
      name: `few-shot-${Math.round(fraction * 100)}`,
      description: `CIFAR-100 resnet56 → resnet20 on the first ${fraction * 100}% of the training set (KD; --method crd for CRD)`,
      task: 'few-shot',
      dataset: 'cifar100',
      // The few-shot runs of the MCMI repository fine-tune with λ = 0.15 (CIFAR100-FewShot/runKD0.sh).
      ...recipe('resnet56', 'resnet20'),
      mcmiLambda: 0.15,
      fewShotFraction: fraction,
    });
  }
  for (const classes of ZERO_SHOT_CLASS_SETS) {
    presets.push({
      name: `zero-shot-${classes.join('-')}`,
      description: `CIFAR-10 resnet56 → resnet20, KD, classes {${classes.join(',')}} never shown to the student`,
      task: 'zero-shot',
      dataset: 'cifar10',
      ...recipe('resnet56', 'resnet20'),
      normalization: ZERO_SHOT_CIFAR10_NORMALIZATION,
      omittedClasses: [...classes],
    });
  }
  for (const lambda of MCMI_LAMBDA_SWEEP) {
    presets.push({
      name: `lambda-${lambda}`,
      description: `CIFAR-100 resnet56 → resnet20, KD from an MCMI teacher with λ = ${lambda}`,
      task: 'distill',
      dataset: 'cifar100',
      ...recipe('resnet56', 'resnet20'),
      mcmiLambda: lambda,
    });
  }
  // For smoke tests and trying the commands on a laptop: the smallest ResNet as teacher and student.
  presets.push({
    name: 'tiny',
    description: 'resnet8 → resnet8 on CIFAR-100, 1 epoch, batch 8: checks the pipeline end to end in seconds',
    task: 'distill',
    dataset: 'cifar100',
    ...recipe('resnet8', 'resnet8'),
    epochs: 1,
    batchSize: 8,
    milestones: [],
    mcmiEpochs: 1,
    transferEpochs: 1,
    transferMilestones: [],
  });
  return presets;
}

export const PRESETS: readonly Preset[] = buildPresets();

/** Named preset lists for `sweep --sweep <name>`. */
export const SWEEPS: Readonly<Record<string, readonly string[]>> = {
  pairs: STANDARD_PAIRS.map(([teacher, student]) => `${teacher}-${student}`),
  'few-shot': FEW_SHOT_FRACTIONS.map((fraction) => `few-shot-${Math.round(fraction * 100)}`),
  'zero-shot': ZERO_SHOT_CLASS_SETS.map((classes) => `zero-shot-${classes.join('-')}`),
  lambda: MCMI_LAMBDA_SWEEP.map((lambda) => `lambda-${lambda}`),
};

/** The preset called `name`; an unknown name lists the known ones. */
export function getPreset(name: string): Preset {
  const preset = PRESETS.find((candidate) => candidate.name === name);
  if (preset === undefined) {
    throw new Error(
      `--preset: unknown preset '${name}'; known presets: ${PRESETS.map((candidate) => candidate.name).join(', ')}`,
    );
  }
  return {
    ...preset,
    milestones: [...preset.milestones],
    omittedClasses: [...preset.omittedClasses],
    transferMilestones: [...preset.transferMilestones],
    normalization: { mean: [...preset.normalization.mean], std: [...preset.normalization.std] },
  };
}

/**
 * Milestones of a `presetEpochs`-epoch schedule rescaled to `epochs` (150/180/210 of 240 → 63/75/88 of 100),
 * so `--epochs` keeps the recipe's shape. Milestones at or past the last epoch are dropped.
 */
export function scaleMilestones(milestones: readonly number[], presetEpochs: number, epochs: number): number[] {
  if (epochs === presetEpochs) return [...milestones];
  return milestones
    .map((milestone) => Math.round((milestone * epochs) / presetEpochs))
    .filter((milestone) => milestone > 0 && milestone < epochs);
}
