import * as tf from '@tensorflow/tfjs-core';
import { assertAllocatable, assertRandomState, assertSeed, SeededRandom } from '@kd/internal';
import { assertNumber } from '../validate';
import { REGULARIZER_OPTION_KEYS, assertKnownOptions, assertSize, optionalSize } from './checks';
import { dense, l2NormalizeRows } from './layers';
import { type DenseWeights, RegularizerBase, type RegularizerConfig, type RegularizerOptions } from './regularizer';
import { embeddedVectorSizes, type InferredSizes } from './inferred-sizes';

export interface CrdRegularizerOptions extends RegularizerOptions {
  /** Size D_s of the student's penultimate vector. Default: inferred from the first `loss()` call. */
  studentDim?: number;
  /** Size D_t of the teacher's penultimate vector. Default: inferred from the first `loss()` call. */
  teacherDim?: number;
  /** Size D of the embeddings and of the memory rows. Default 128. */
  embedDim?: number;
  /** Number N of training samples: one memory row per sample and side (required: a batch cannot tell it). */
  datasetSize: number;
  /** The class of every training sample, `labels[i]` for dataset index i (length N, integers ≥ 0). */
  labels: Int32Array | readonly number[];
  /** Negatives K per sample, drawn from the other classes. Default 16384. */
  numNegatives?: number;
  /** Temperature τ of the scores exp(⟨m, v⟩/τ). Default 0.07. */
  temperature?: number;
  /** Memory momentum μ in m ← normalise(μ·m + (1 − μ)·v). Default 0.5. */
  momentum?: number;
  /** Seed of the weight and memory initialisation and of the negative sampler, an integer in [0, 2^32). Default 0. */
  seed?: number;
}

/** NCE's ε in P/(P + K·P_n + ε), as in the reference. */
const NCE_EPSILON = 1e-7;

/**
 * Contrastive Representation Distillation (Tian, Krishnan & Isola, ICLR 2020), as in RepDistiller's
 * `CRDLoss` with "exact" positives.
 *
 * Embeddings: v_s = normalise(W_s s + c_s), v_t = normalise(W_t t + c_t), both trained. Two memory banks
 * M_s, M_t (N × D, initialised uniform in ±1/√(D/3)) hold past embeddings of every training sample. For a
 * sample with dataset index i, the candidates are i itself (the positive) and K indices drawn uniformly,
 * without replacement unless K exceeds the pool, from the samples of OTHER classes. Per direction (teacher
 * embedding against the student memory, and student embedding against the teacher memory):
 *
 *   P_j = exp(⟨M[j], v⟩/τ) / Z,   Z = mean(exp scores of the first batch) · N   (fixed afterwards)
 *   L = −(1/B) Σ_b [ log(P_pos/(P_pos + K/N + ε)) + Σ_negatives log((K/N)/(P_j + K/N + ε)) ],  ε = 1e-7
 *
 * and the loss is the sum of both directions.
 *
 * **Memory update.** After the optimizer step, the rows of the batch become m ← normalise(μ·m + (1−μ)·v)
 * with the embeddings computed in that step. A batch may hold the same sample twice (a few-shot loader that
 * cycles a small subset does): each occurrence is its own positive with its own negatives in the loss, and
 * the memory row is written once, from the **last** occurrence in the batch, like the reference's
 * `index_copy_` applied in batch order. `loss()` remembers them; call `updateMemory()` after each
 * `optimizer.minimize(...)`, outside the gradient closure, so the update never enters the gradient tape.
 * `loss()` refuses to run while an update is pending (call `discardPendingUpdate()` to drop one, e.g.
 * after an evaluation-only call).
 *
 * **Cost.** The banks take 2 × datasetSize × embedDim float32 values (CIFAR-100: 2 × 50000 × 128 × 4 B
 * = 51 MB); they are non-trainable variables, saved and loaded with the weights together with Z and the
 * sampler state, so a run resumes exactly. Scores are computed against the whole bank as one matrix
 * product per direction (B × N × D multiply-adds) and the sampled entries are selected with a constant
 * count mask, so no `gather` of a trainable tensor lies on the gradient path (the wasm backend lacks its
 * gradient kernel) and memory stays O(B·N) instead of O(B·K·D).
 *
 * **Sizes.** `studentDim` and `teacherDim` left out are inferred from the first `loss()` call (or `build()`):
 * the heads and the banks are then created, from the seed, exactly as if they had been given. `datasetSize`
 * and `labels` cannot be inferred from a batch and stay required.
 *
 * @example
 * const crd = new CrdRegularizer({ studentDim: 64, teacherDim: 256, datasetSize: 50000, labels, seed: 1 });
 * optimizer.minimize(() => tf.add(ce, tf.mul(0.8, crd.loss(studentVector, teacherVector, indices))), false,
 *   [...studentVariables, ...crd.trainableVariables]);
 * crd.updateMemory();
 */
export class CrdRegularizer extends RegularizerBase {
  private readonly config: {
    studentDim?: number;
    teacherDim?: number;
    embedDim: number;
    datasetSize: number;
    numNegatives: number;
    temperature: number;
    momentum: number;
    seed: number;
  };
  private readonly labels: Int32Array;
  /** Dataset indices sorted by class; class c occupies [classStart(c), classStart(c) + classCount(c)). */
  private readonly indicesByClass: Int32Array;
  private readonly classStart = new Map<number, number>();
  private readonly classCount = new Map<number, number>();
  private sampler!: SeededRandom;
  private readonly marks: Uint8Array;
  private studentEmbed!: DenseWeights;
  private teacherEmbed!: DenseWeights;
  private studentMemory!: tf.Variable;
  private teacherMemory!: tf.Variable;
  /** Z of the two directions [student anchors, teacher anchors]; 0 until the first batch sets them. */
  private readonly normalizers = new Float32Array(2);
  private pending: { indices: Int32Array; student: tf.Tensor2D; teacher: tf.Tensor2D } | undefined;

  constructor(options: CrdRegularizerOptions) {
    const fn = 'CrdRegularizer';
    assertKnownOptions(fn, options, [
      'studentDim',
      'teacherDim',
      'embedDim',
      'datasetSize',
      'labels',
      'numNegatives',
      'temperature',
      'momentum',
      'seed',
      ...REGULARIZER_OPTION_KEYS,
    ]);
    super(fn, options);
    const studentDim = optionalSize(fn, 'studentDim', options.studentDim);
    const teacherDim = optionalSize(fn, 'teacherDim', options.teacherDim);
    const embedDim = assertSize(fn, 'embedDim', options.embedDim ?? 128);
    const datasetSize = assertSize(fn, 'datasetSize', options.datasetSize);
    const numNegatives = assertSize(fn, 'numNegatives', options.numNegatives ?? 16384);
    const temperature = assertNumber(fn, 'temperature', options.temperature ?? 0.07, { positive: true });
    const momentum = assertNumber(fn, 'momentum', options.momentum ?? 0.5, { min: 0, max: 1 });
    if (momentum === 1)
      throw new Error(`${fn}: momentum must be < 1 (1 would never write the embeddings to memory), got 1`);
    const seed = assertSeed(fn, 'seed', options.seed ?? 0);
    // Checked before anything is allocated: 3e7 samples would otherwise spend minutes filling 30 GB of banks.
    assertAllocatable(
      fn,
      `each memory bank [datasetSize ${datasetSize}, embedDim ${embedDim}]`,
      datasetSize * embedDim,
      4,
      2,
    );
    this.config = { studentDim, teacherDim, embedDim, datasetSize, numNegatives, temperature, momentum, seed };

    const labels = options.labels;
    if (!(labels instanceof Int32Array) && !Array.isArray(labels)) {
      throw new Error(
        `${fn}: labels must be an Int32Array or an array of integers, got ${labels === null ? 'null' : typeof labels}`,
      );
    }
    if (labels.length !== datasetSize)
      throw new Error(`${fn}: labels has ${labels.length} entries, expected datasetSize = ${datasetSize}`);
    this.labels = Int32Array.from(labels, (label, index) => {
      if (!Number.isInteger(label) || label < 0 || label > 2147483647) {
        throw new Error(`${fn}: labels[${index}] = ${String(label)} must be a non-negative integer`);
      }
      return label;
    });
    for (const label of this.labels) this.classCount.set(label, (this.classCount.get(label) ?? 0) + 1);
    if (this.classCount.size < 2)
      throw new Error(`${fn}: labels must contain at least two classes (negatives come from other classes)`);
    let offset = 0;
    for (const label of [...this.classCount.keys()].sort((a, b) => a - b)) {
      this.classStart.set(label, offset);
      offset += this.classCount.get(label) as number;
    }
    const fill = new Map(this.classStart);
    this.indicesByClass = new Int32Array(datasetSize);
    this.labels.forEach((label, index) => {
      const position = fill.get(label) as number;
      this.indicesByClass[position] = index;
      fill.set(label, position + 1);
    });
    this.marks = new Uint8Array(datasetSize);
    if (studentDim !== undefined && teacherDim !== undefined) this.createVariables(fn, studentDim, teacherDim);
  }

  protected override createVariables(fn: string, studentDim: number, teacherDim: number): void {
    const { embedDim, datasetSize, seed } = this.config;
    assertAllocatable(fn, `the embedding [studentDim ${studentDim}, embedDim ${embedDim}]`, studentDim * embedDim, 4);
    assertAllocatable(fn, `the embedding [teacherDim ${teacherDim}, embedDim ${embedDim}]`, teacherDim * embedDim, 4);
    Object.assign(this.config, { studentDim, teacherDim });
    const random = new SeededRandom(seed);
    [this.studentEmbed, this.teacherEmbed] = this.addEmbeddings(random, studentDim, teacherDim, embedDim);
    // uniform ±1/√(D/3): variance 1/D per entry, so rows start with norm ≈ 1
    const memoryBound = 1 / Math.sqrt(embedDim / 3);
    const memoryShape = [datasetSize, embedDim];
    this.studentMemory = this.addVariable(
      'memory/student',
      random.uniformArray(datasetSize * embedDim, memoryBound),
      memoryShape,
      { trainable: false },
    );
    this.teacherMemory = this.addVariable(
      'memory/teacher',
      random.uniformArray(datasetSize * embedDim, memoryBound),
      memoryShape,
      { trainable: false },
    );
    this.sampler = new SeededRandom(random.nextUint32());
    this.addState('normalizers', {
      shape: [2],
      dtype: 'float32',
      read: () => this.normalizers.slice(),
      write: (values) => this.normalizers.set(values),
    });
    // The sampler's four uint32 state words, stored bit for bit as int32.
    this.addState('sampler', {
      shape: [4],
      dtype: 'int32',
      read: () => Int32Array.from(this.sampler.getState()),
      write: (values) => {
        const words = Array.from(values, (word) => word >>> 0);
        this.sampler.setState(assertRandomState(fn, "the saved state 'sampler'", words));
      },
    });
    this.markBuilt();
  }

  protected override inferredSizes(): InferredSizes {
    return embeddedVectorSizes(this.config, 'B');
  }

  getConfig(): RegularizerConfig {
    return this.configWith({ ...this.config, labels: Array.from(this.labels) });
  }

  /** Z of the two directions [student anchors vs teacher memory, teacher anchors vs student memory]; 0 = not set yet. */
  get partitionConstants(): [number, number] {
    return [this.normalizers[0] as number, this.normalizers[1] as number];
  }

  /** Whether `loss()` left a memory update that `updateMemory()` has not applied yet. */
  get hasPendingUpdate(): boolean {
    return this.pending !== undefined;
  }

  /**
   * The K negatives of each batch index: dataset indices of other classes, without replacement when K is at
   * most the pool size (Floyd's algorithm), with replacement otherwise. Advances the sampler.
   */
  sampleNegatives(indices: Int32Array): Int32Array[] {
    this.assertBuilt('sampleNegatives');
    const k = this.config.numNegatives;
    return Array.from(indices, (index) => {
      const label = this.labels[index] as number;
      const start = this.classStart.get(label) as number;
      const count = this.classCount.get(label) as number;
      const poolSize = this.config.datasetSize - count;
      // position p in the pool of other classes skips the block of the sample's own class
      const toIndex = (p: number): number => this.indicesByClass[p < start ? p : p + count] as number;
      const negatives = new Int32Array(k);
      if (k > poolSize) {
        for (let draw = 0; draw < k; draw++) negatives[draw] = toIndex(this.sampler.nextInt(poolSize));
        return negatives;
      }
      const positions = new Int32Array(k);
      for (let j = poolSize - k, draw = 0; j < poolSize; j++, draw++) {
        const candidate = this.sampler.nextInt(j + 1);
        const chosen = this.marks[candidate] === 1 ? j : candidate;
        this.marks[chosen] = 1;
        positions[draw] = chosen;
      }
      for (let draw = 0; draw < k; draw++) {
        const position = positions[draw] as number;
        this.marks[position] = 0;
        negatives[draw] = toIndex(position);
      }
      return negatives;
    });
  }

  /** normalise(W s + c) for the student side, `[N, D]`. */
  embedStudent(studentVector: tf.Tensor2D): tf.Tensor2D {
    this.assertBuilt('embedStudent');
    return tf.tidy(() => l2NormalizeRows(dense(studentVector, this.studentEmbed.kernel, this.studentEmbed.bias)));
  }

  /** normalise(W t + c) for the teacher side, `[N, D]`. */
  embedTeacher(teacherVector: tf.Tensor2D): tf.Tensor2D {
    this.assertBuilt('embedTeacher');
    return tf.tidy(() => l2NormalizeRows(dense(teacherVector, this.teacherEmbed.kernel, this.teacherEmbed.bias)));
  }

  /**
   * The CRD loss of a batch (see the class docs); remembers the batch's embeddings for `updateMemory()`.
   *
   * @param studentVector float32 `[B, D_s]`.
   * @param teacherVector float32 `[B, D_t]` (keep the teacher out of the gradient).
   * @param indices the dataset index of every batch row, in [0, datasetSize); a repeated index is a repeated
   *   sample (each occurrence is its own positive; the last one writes the memory row).
   */
  loss(studentVector: tf.Tensor, teacherVector: tf.Tensor, indices: Int32Array): tf.Scalar {
    const fn = 'CrdRegularizer.loss';
    this.assertUsable('loss');
    const [s, t] = this.checkInputs<tf.Tensor2D, tf.Tensor2D>(
      fn,
      'studentVector',
      studentVector,
      'teacherVector',
      teacherVector,
    );
    const batchSize = s.shape[0];
    this.assertIndices(fn, indices, batchSize);
    if (this.pending !== undefined) {
      throw new Error(
        `${fn}: the memory update of the previous call is still pending: call updateMemory() after each optimizer step ` +
          `(or discardPendingUpdate() after a call that should not update the memory)`,
      );
    }
    this.beginLoss(fn, s, t);

    // counts[b, j]: how often dataset row j is a candidate of batch row b (duplicates count when sampling
    // with replacement); positives[b, j] = 1 at the sample's own index
    const n = this.config.datasetSize;
    const negativeCounts = new Float32Array(batchSize * n);
    const positiveMask = new Float32Array(batchSize * n);
    this.sampleNegatives(indices).forEach((negatives, row) => {
      for (const negative of negatives)
        negativeCounts[row * n + negative] = (negativeCounts[row * n + negative] as number) + 1;
      positiveMask[row * n + (indices[row] as number)] = 1;
    });

    return tf.tidy(() => {
      const studentEmbedding = this.embedStudent(s);
      const teacherEmbedding = this.embedTeacher(t);
      const negatives = tf.tensor2d(negativeCounts, [batchSize, n]);
      const positives = tf.tensor2d(positiveMask, [batchSize, n]);
      const studentTerm = this.directionLoss(studentEmbedding, this.teacherMemory, 0, positives, negatives);
      const teacherTerm = this.directionLoss(teacherEmbedding, this.studentMemory, 1, positives, negatives);
      this.pending = {
        indices: indices.slice(),
        student: tf.keep(tf.clone(studentEmbedding)),
        teacher: tf.keep(tf.clone(teacherEmbedding)),
      };
      return tf.add(studentTerm, teacherTerm) as tf.Scalar;
    });
  }

  /**
   * One direction: anchors v `[B, D]` against the memory rows of the other side.
   * log D₁ = log P − log(P + K/N + ε) for the positive, log D₀ = log(K/N) − log(P + K/N + ε) per negative.
   */
  private directionLoss(
    anchors: tf.Tensor2D,
    memory: tf.Variable,
    direction: 0 | 1,
    positives: tf.Tensor2D,
    negatives: tf.Tensor2D,
  ): tf.Scalar {
    const { datasetSize: n, numNegatives: k, temperature } = this.config;
    const batchSize = anchors.shape[0];
    const scores = tf.div(tf.matMul(anchors, memory as tf.Tensor2D, false, true), temperature);
    const expScores = tf.exp(scores);
    if (this.normalizers[direction] === 0) {
      // Z = mean over the first batch's B·(K+1) candidates of exp(score), times N; a constant afterwards
      const sampledSum = tf.sum(tf.mul(expScores, tf.add(positives, negatives)));
      this.normalizers[direction] = ((sampledSum.dataSync()[0] as number) / (batchSize * (k + 1))) * n;
    }
    const z = this.normalizers[direction] as number;
    const noise = k / n;
    const probabilities = tf.div(expScores, z);
    const logDenominator = tf.log(tf.add(probabilities, noise + NCE_EPSILON));
    const logPositive = tf.sub(tf.sub(scores, Math.log(z)), logDenominator);
    const logNegative = tf.sub(Math.log(noise), logDenominator);
    const total = tf.add(tf.sum(tf.mul(positives, logPositive)), tf.sum(tf.mul(negatives, logNegative)));
    return tf.div(tf.neg(total), batchSize) as tf.Scalar;
  }

  /**
   * Writes the embeddings of the last `loss()` call into both memories, m ← normalise(μ·m + (1−μ)·v) for the
   * rows of the batch. Call it after the optimizer step, outside any gradient closure.
   */
  updateMemory(): void {
    const fn = 'CrdRegularizer.updateMemory';
    this.assertUsable('updateMemory');
    const pending = this.pending;
    if (pending === undefined) throw new Error(`${fn}: no pending update: call loss() first`);
    this.pending = undefined;
    const { momentum, datasetSize, embedDim } = this.config;
    tf.tidy(() => {
      // One write per distinct row, from its last occurrence in the batch: scatterND sums repeated indices,
      // so a repeated row must not reach it twice.
      const lastPosition = new Map<number, number>();
      pending.indices.forEach((index, position) => lastPosition.set(index, position));
      const distinct = Int32Array.from(lastPosition.keys());
      const positions = tf.tensor1d(Int32Array.from(lastPosition.values()), 'int32');
      const rowIndices = tf.tensor1d(distinct, 'int32');
      const scatterIndices = tf.reshape(rowIndices, [distinct.length, 1]);
      const rowMask = tf.scatterND(scatterIndices, tf.ones([distinct.length, 1]), [datasetSize, 1]);
      const keep = tf.sub(1, rowMask);
      for (const [memory, embeddings] of [
        [this.studentMemory, pending.student],
        [this.teacherMemory, pending.teacher],
      ] as const) {
        const rows = tf.gather(memory, rowIndices);
        const written = tf.gather(embeddings, positions);
        const updated = l2NormalizeRows(tf.add(tf.mul(rows, momentum), tf.mul(written, 1 - momentum)));
        // rows outside the batch are multiplied by exactly 1, the batch rows replaced
        memory.assign(tf.add(tf.mul(memory, keep), tf.scatterND(scatterIndices, updated, [datasetSize, embedDim])));
      }
    });
    tf.dispose([pending.student, pending.teacher]);
  }

  /** Drops the update `loss()` remembered, leaving the memories unchanged. */
  discardPendingUpdate(): void {
    if (this.pending === undefined) return;
    tf.dispose([this.pending.student, this.pending.teacher]);
    this.pending = undefined;
  }

  override dispose(): void {
    this.discardPendingUpdate();
    super.dispose();
  }

  private assertIndices(fn: string, indices: unknown, batchSize: number): asserts indices is Int32Array {
    if (!(indices instanceof Int32Array)) {
      throw new Error(
        `${fn}: indices must be an Int32Array of dataset indices, got ${indices === null ? 'null' : typeof indices}`,
      );
    }
    if (indices.length !== batchSize)
      throw new Error(`${fn}: batch sizes differ: indices has ${indices.length}, the vectors have ${batchSize}`);
    indices.forEach((index, position) => {
      if (!(index >= 0 && index < this.config.datasetSize)) {
        throw new Error(`${fn}: indices[${position}] = ${index} is out of range [0, ${this.config.datasetSize})`);
      }
    });
  }
}
