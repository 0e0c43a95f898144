/**
 * Runs the benchmark's runs of one problem. Each run lives in its own directory under `outDir` with its
 * `outcome.json` (written atomically once the run is over) and, for teachers, its weights; a run with an
 * outcome is skipped, so re-running the command resumes a benchmark (a killed run is redone: each takes seconds).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readJson, writeJsonAtomic } from '@kd-example/common';
import { createModel, type KdModel } from '@kd/models';
import { loadWeightsFromDirectory, saveWeightsToDirectory } from '@kd/models/node';
import {
  TrainingCollapsedError,
  distillStudent,
  fineTuneTeacherMcmi,
  measureClassConditionalStatistics,
  trainSupervised,
  type TrainingResult,
} from '@kd/trainer';
import type { BenchmarkConfig, BenchmarkProblem } from './config';
import { bayesAccuracy, scoreLogits, type Scores } from './metrics';
import { oracleTeacher } from './oracle';
import { planProblem, teacherId, type RunSpec, type StudentRun, type TeacherRun } from './plan';
import { createProblem, type Problem, type Sample } from './problem';
import { vectorDataset, vectorLoader, type VectorDataset } from './vectors';

export type OutcomeStatus = 'finished' | 'collapsed' | 'skipped' | 'failed';

/** `outcome.json` of a run: what the report reads. */
export interface RunOutcome {
  id: string;
  status: OutcomeStatus;
  message?: string;
  /** Scores on the problem's test sample. */
  test?: Scores;
  /** Teachers: CMI on the test sample (eval mode, nats), the trainer's definition. */
  testCmi?: number;
  /** Training accuracy of the last epoch. */
  trainAccuracy?: number;
  wallSeconds: number;
  backend: string;
  finishedAt: string;
}

/** `problem.json`: the problem's ground truth, measured once. */
export interface ProblemSummary {
  name: string;
  description: string;
  /** E_x[max_c P*(c|x)] on `bayesSamples` fresh samples, and its standard error. */
  bayesAccuracy: number;
  bayesAccuracyStandardError: number;
  bayesSamples: number;
  /** The Bayes classifier on the test sample: accuracy on its labels; E[max P*] over it; the oracle's CMI, ECE. */
  oracleTest: Scores & { cmi: number; expectedMaxPosterior: number };
}

export const OUTCOME_FILE = 'outcome.json';
export const PROBLEM_FILE = 'problem.json';
const WEIGHTS_DIRECTORY = 'weights';

export function readOutcome(outDir: string, id: string): RunOutcome | undefined {
  return readJson<RunOutcome>(join(outDir, id, OUTCOME_FILE));
}

/** Logits of `model` on every row of `dataset`, in batches (float32 values as the model returns them). */
export function predictLogits(model: KdModel, dataset: VectorDataset, batchSize = 1000): Float32Array {
  const d = dataset.channels;
  const count = dataset.labels.length;
  const out = new Float32Array(count * model.numClasses);
  for (let start = 0; start < count; start += batchSize) {
    const rows = Math.min(batchSize, count - start);
    const logits = tf.tidy(() => {
      const images = tf.tensor4d(dataset.values.subarray(start * d, (start + rows) * d), [rows, 1, 1, d]);
      return model.apply(images, { training: false }).logits.dataSync();
    });
    out.set(logits, start * model.numClasses);
  }
  return out;
}

/** What one problem's runs share: the problem, its test sample with P*, and the pools per seed. */
interface ProblemContext {
  config: BenchmarkConfig;
  problem: Problem;
  name: string;
  test: VectorDataset;
  testPosterior: Float64Array;
  pools: Map<number, Sample>;
  outDir: string;
}

/** The first `count` samples of seed `seed`'s training pool (drawn once per seed). */
function pool(context: ProblemContext, seed: number, count = context.config.poolSize): VectorDataset {
  let sample = context.pools.get(seed);
  if (sample === undefined) {
    sample = context.problem.sample(context.config.poolSize, `pool-${seed}`);
    context.pools.set(seed, sample);
  }
  const { dimension, numClasses } = context.problem.spec;
  return vectorDataset({ sample, dimension, numClasses, count });
}

function newMlp(context: ProblemContext, hiddenSizes: number[], seed: number): KdModel {
  const { dimension, numClasses } = context.problem.spec;
  return createModel('mlp', { numClasses, inputShape: [1, 1, dimension], hiddenSizes, seed });
}

async function testScores(context: ProblemContext, model: KdModel): Promise<Scores> {
  return scoreLogits({
    logits: predictLogits(model, context.test),
    posterior: context.testPosterior,
    labels: context.test.labels,
    numClasses: model.numClasses,
  });
}

async function testCmi(context: ProblemContext, model: KdModel): Promise<number> {
  return (
    await measureClassConditionalStatistics({ model, dataset: context.test, loader: vectorLoader(), batchSize: 1000 })
  ).cmi;
}

function lastTrainAccuracy(result: TrainingResult): number {
  return result.last.train.accuracy;
}

async function runTeacher(context: ProblemContext, run: TeacherRun): Promise<Partial<RunOutcome>> {
  const { config } = context;
  const train = pool(context, run.seed);
  const model = newMlp(context, config.teacherHidden, run.seed);
  try {
    const common = {
      model,
      data: { train },
      batchSize: config.batchSize,
      augmentation: false as const,
      loader: vectorLoader(),
      schedule: { kind: 'cosine' as const },
      seed: run.seed,
      progress: false as const,
    };
    let result: TrainingResult;
    if (run.lambda === undefined) {
      result = await trainSupervised({
        ...common,
        epochs: config.teacherEpochs,
        learningRate: config.teacherLearningRate,
      });
    } else {
      loadWeightsFromDirectory(model, join(context.outDir, teacherId(run.problem, run.seed, 'mll'), WEIGHTS_DIRECTORY));
      result = await fineTuneTeacherMcmi({
        ...common,
        lambda: run.lambda,
        collapseGuard: config.collapseGuard ? {} : false,
        cmiEvery: 0,
        epochs: config.fineTuneEpochs,
        learningRate: config.fineTuneLearningRate,
      });
    }
    await saveWeightsToDirectory(model, join(context.outDir, run.id, WEIGHTS_DIRECTORY));
    return {
      test: await testScores(context, model),
      testCmi: await testCmi(context, model),
      trainAccuracy: lastTrainAccuracy(result),
    };
  } finally {
    model.dispose();
  }
}

async function runStudent(context: ProblemContext, run: StudentRun): Promise<Partial<RunOutcome>> {
  const { config, problem } = context;
  const train = pool(context, run.seed, run.size);
  const student = newMlp(context, config.studentHidden, run.seed);
  let teacher: KdModel | undefined;
  try {
    const common = {
      data: { train },
      epochs: config.studentEpochs,
      epochLength: config.poolSize,
      batchSize: config.batchSize,
      learningRate: config.studentLearningRate,
      augmentation: false as const,
      loader: vectorLoader({ epochLength: config.poolSize }),
      schedule: { kind: 'cosine' as const },
      seed: run.seed,
      progress: false as const,
    };
    let result: TrainingResult;
    if (run.arm === 'none') {
      result = await trainSupervised({ ...common, model: student });
    } else {
      if (run.arm === 'oracle') {
        teacher = oracleTeacher(problem);
      } else {
        teacher = newMlp(context, config.teacherHidden, run.seed);
        loadWeightsFromDirectory(
          teacher,
          join(context.outDir, teacherId(run.problem, run.seed, run.arm), WEIGHTS_DIRECTORY),
        );
      }
      result = await distillStudent({
        ...common,
        student,
        teacher,
        objectives: config.distillation,
        measureTeacherCmi: false,
      });
    }
    return { test: await testScores(context, student), trainAccuracy: lastTrainAccuracy(result) };
  } finally {
    student.dispose();
    teacher?.dispose();
  }
}

/** Why a student cannot run (its teacher collapsed or failed), or undefined. */
function blockedBy(context: ProblemContext, run: RunSpec): string | undefined {
  if (run.kind !== 'student' || run.arm === 'none' || run.arm === 'oracle') return undefined;
  const id = teacherId(run.problem, run.seed, run.arm);
  const outcome = readOutcome(context.outDir, id);
  if (outcome === undefined) return `its teacher ${id} has not run`;
  return outcome.status === 'finished' ? undefined : `its teacher ${id} ${outcome.status}`;
}

async function execute(context: ProblemContext, run: RunSpec, log: (message: string) => void): Promise<RunOutcome> {
  const started = Date.now();
  const base = () => ({
    id: run.id,
    wallSeconds: (Date.now() - started) / 1000,
    backend: tf.getBackend(),
    finishedAt: new Date().toISOString(),
  });
  const blocked = blockedBy(context, run);
  if (blocked !== undefined) return { ...base(), status: 'skipped', message: blocked };
  try {
    const scores = run.kind === 'teacher' ? await runTeacher(context, run) : await runStudent(context, run);
    const outcome: RunOutcome = { ...base(), status: 'finished', ...scores };
    log(
      `${run.id}: ${outcome.wallSeconds.toFixed(1)} s, test acc ${(100 * outcome.test!.accuracy).toFixed(2)}%, BCPD error ${outcome.test!.bcpdError.toFixed(4)}`,
    );
    return outcome;
  } catch (error) {
    if (error instanceof TrainingCollapsedError) {
      log(`${run.id}: COLLAPSED: ${error.message}`);
      return { ...base(), status: 'collapsed', message: error.message };
    }
    log(`${run.id}: FAILED: ${(error as Error).stack ?? String(error)}`);
    return { ...base(), status: 'failed', message: (error as Error).stack ?? String(error) };
  }
}

/** The problem's ground truth: Bayes accuracy by Monte Carlo, and the oracle's scores on the test sample. */
async function summariseProblem(context: ProblemContext, entry: BenchmarkProblem): Promise<ProblemSummary> {
  const { numClasses } = context.problem.spec;
  const big = context.problem.sample(context.config.bayesSamples, 'bayes');
  const bayes = bayesAccuracy({ posterior: context.problem.posterior(big.x), labels: big.labels, numClasses });
  const oracle = oracleTeacher(context.problem);
  const onTest = bayesAccuracy({ posterior: context.testPosterior, labels: context.test.labels, numClasses });
  return {
    name: entry.name,
    description: entry.description,
    bayesAccuracy: bayes.expected,
    bayesAccuracyStandardError: bayes.standardError,
    bayesSamples: context.config.bayesSamples,
    oracleTest: {
      ...(await testScores(context, oracle)),
      cmi: await testCmi(context, oracle),
      expectedMaxPosterior: onTest.expected,
    },
  };
}

/** Runs every run of `problem` that has no outcome yet; returns how many ran. */
export async function runProblem({
  config,
  problem: entry,
  outDir,
  log = (line) => process.stderr.write(`${line}\n`),
}: {
  config: BenchmarkConfig;
  problem: BenchmarkProblem;
  outDir: string;
  log?: (message: string) => void;
}): Promise<{ ran: number }> {
  const problem = createProblem(entry.spec);
  const testSample = problem.sample(config.testSize, 'test');
  const context: ProblemContext = {
    config,
    problem,
    name: entry.name,
    test: vectorDataset({ sample: testSample, dimension: entry.spec.dimension, numClasses: entry.spec.numClasses }),
    testPosterior: problem.posterior(testSample.x),
    pools: new Map(),
    outDir,
  };
  const summaryPath = join(outDir, entry.name, PROBLEM_FILE);
  if (readJson<ProblemSummary>(summaryPath) === undefined)
    writeJsonAtomic(summaryPath, await summariseProblem(context, entry));
  let ran = 0;
  for (const run of planProblem(config, entry.name)) {
    if (readOutcome(outDir, run.id) !== undefined) continue;
    writeJsonAtomic(join(outDir, run.id, OUTCOME_FILE), await execute(context, run, log));
    ran++;
  }
  return { ran };
}
