import { assertKnownOptions } from '@kd/internal';
import * as tf from '@tensorflow/tfjs-core';
import { assertNumber } from '../validate';

/** Options of {@link SgdMomentum}. */
export interface SgdOptions {
  /** Step size η (changed each epoch by the schedule through {@link SgdMomentum.learningRate}). */
  learningRate: number;
  /** Momentum μ. Default 0.9. */
  momentum?: number;
  /** L2 weight decay λ_wd added to the gradient before momentum. Default 5e-4. */
  weightDecay?: number;
}

/**
 * SGD with momentum and coupled weight decay, exactly as PyTorch's `torch.optim.SGD` (dampening 0, no
 * Nesterov), which the RepDistiller and MCMI recipes use:
 *
 *   g' = g + λ_wd·w,   v ← μ·v + g',   w ← w − η·v
 *
 * (PyTorch starts the buffer at g' on the first step, which equals μ·0 + g'.) The optimiser owns one velocity
 * slot per variable; {@link getSlots}/{@link setSlots} expose them so a checkpoint restores them bit for bit.
 * Only the variables given to the constructor are ever touched: pass the student and the regularizer heads,
 * never the teacher.
 *
 * @example
 * const optimizer = new SgdMomentum(student.trainableVariables, { learningRate: 0.05 });
 * const { value, grads } = tf.variableGrads(() => loss(), student.trainableVariables);
 * optimizer.applyGradients(grads);
 */
export class SgdMomentum {
  learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly variables: readonly tf.Variable[];
  private readonly velocities: tf.Variable[];
  private disposed = false;

  constructor(variables: readonly tf.Variable[], options: SgdOptions) {
    const fn = 'SgdMomentum';
    assertKnownOptions(fn, options, ['learningRate', 'momentum', 'weightDecay']);
    this.learningRate = assertNumber(fn, 'learningRate', options.learningRate, { nonNegative: true });
    this.momentum = assertNumber(fn, 'momentum', options.momentum ?? 0.9, { min: 0, max: 1 });
    this.weightDecay = assertNumber(fn, 'weightDecay', options.weightDecay ?? 5e-4, { nonNegative: true });
    const names = new Set<string>();
    for (const variable of variables) {
      if (!(variable instanceof tf.Variable)) throw new Error(`${fn}: variables must hold tf.Variable instances`);
      if (names.has(variable.name)) throw new Error(`${fn}: variable '${variable.name}' is listed twice`);
      names.add(variable.name);
    }
    this.variables = [...variables];
    // tf.variable does not take ownership of its initial value: build it inside tidy.
    this.velocities = this.variables.map((variable) => tf.tidy(() => tf.variable(tf.zerosLike(variable), false)));
  }

  /**
   * Applies one step. `gradients` maps variable names (as returned by `tf.variableGrads`) to gradients; a
   * variable without a gradient is left alone (its velocity too), as PyTorch skips parameters whose `.grad`
   * is None. The gradient tensors are not disposed.
   */
  applyGradients(gradients: tf.NamedTensorMap): void {
    if (this.disposed) throw new Error('SgdMomentum.applyGradients: the optimiser has been disposed');
    tf.tidy(() => {
      const learningRate = tf.scalar(this.learningRate);
      const momentum = tf.scalar(this.momentum);
      const weightDecay = tf.scalar(this.weightDecay);
      this.variables.forEach((variable, index) => {
        const gradient = gradients[variable.name];
        if (gradient === undefined) return;
        const velocity = this.velocities[index] as tf.Variable;
        // g' = g + λ_wd·w ; v ← μ·v + g' ; w ← w − η·v
        const decayed = this.weightDecay === 0 ? gradient : tf.add(gradient, tf.mul(weightDecay, variable));
        const nextVelocity = tf.add(tf.mul(momentum, velocity), decayed);
        velocity.assign(nextVelocity);
        variable.assign(tf.sub(variable, tf.mul(learningRate, nextVelocity)));
      });
    });
  }

  /** The velocity slots, in the order of {@link variables} (live tensors owned by the optimiser: do not dispose). */
  getSlots(): tf.Tensor[] {
    return [...this.velocities];
  }

  /** Overwrites the velocity slots (e.g. from a checkpoint); shapes must match the variables. */
  setSlots(slots: readonly tf.Tensor[]): void {
    if (slots.length !== this.velocities.length) {
      throw new Error(`SgdMomentum.setSlots: expected ${this.velocities.length} slots, got ${slots.length}`);
    }
    slots.forEach((slot, index) => {
      const velocity = this.velocities[index] as tf.Variable;
      if (slot.shape.join(',') !== velocity.shape.join(',')) {
        throw new Error(
          `SgdMomentum.setSlots: slot ${index} has shape [${slot.shape.join(',')}], variable ` +
            `'${this.variables[index]?.name}' has [${velocity.shape.join(',')}]`,
        );
      }
      velocity.assign(slot);
    });
  }

  /** Disposes the velocity slots (not the variables). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const velocity of this.velocities) velocity.dispose();
  }
}
