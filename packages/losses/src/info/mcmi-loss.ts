import * as tf from '@tensorflow/tfjs-core';
import { assertNumber } from '../validate';
import { conditionalMutualInformationUnchecked, validateCmiInputs } from './conditional-mutual-information';
import { crossEntropyUnchecked } from './cross-entropy';
import type { ValueCheckOption } from './shared';

export interface McmiLossOptions extends ValueCheckOption {
  /** Number of classes C; must equal `logits.shape[1]`. */
  numClasses: number;
  /**
   * Weight λ of the CMI term, subtracted: a positive λ *maximises* CMI. Default 0.25, the paper's value
   * (the authors' scripts pass it as `--param 1 -0.25` to a CE + param·KL loss).
   */
  lambda?: number;
  /** Fixed class centroids `[C, C]` (the MCMI recipe: one full pass of the pretrained teacher). Default: batch centroids. */
  centroids?: tf.Tensor;
}

/**
 * The MCMI teacher objective ("Bayes conditional distribution estimation for knowledge distillation",
 * ICLR 2024, arXiv 2401.08732): fine-tune a pretrained teacher to maximise its conditional mutual information
 * while keeping it accurate,
 *
 *   L = CE(z, y) − λ · CMI,   CMI = (1/N) Σ_i KL( softmax(z_i) ‖ Q_{y_i} ),
 *
 * see {@link conditionalMutualInformation} for Q and the log-space computation.
 *
 * **Sign trap.** The CMI term enters with a minus sign. Writing the loss as `CE + w · KL(P ‖ Q)` with a
 * positive weight w *minimises* CMI, the opposite method (CMI-constrained training, which concentrates each
 * class); at least one public reuse of MCMI made exactly that inversion. Here λ > 0 is MCMI. λ = 0 gives
 * plain cross-entropy; a negative λ minimises CMI.
 *
 * **Collapse.** The term is unbounded above: with λ too large (≈ 0.5 on a 10-class problem, measured in
 * `docs/mcmi.md` of this project's repository) the easiest way to raise KL against fixed centroids is to predict
 * a wrong class confidently, and accuracy falls below chance within an epoch. Watch accuracy and CE while
 * fine-tuning.
 *
 * @param logits float32 `[N, C]` of the teacher being fine-tuned.
 * @param labels int32 `[N]`.
 *
 * @example
 * optimizer.minimize(() => mcmiLoss(teacher(images), labels, { numClasses: 100, lambda: 0.25, centroids }));
 */
export function mcmiLoss(logits: tf.Tensor, labels: tf.Tensor, options: McmiLossOptions): tf.Scalar {
  const fn = 'mcmiLoss';
  const { z, y, numClasses, centroids } = validateCmiInputs(fn, logits, labels, options, [
    'numClasses',
    'lambda',
    'centroids',
    'checkValues',
  ]);
  const lambda = assertNumber(fn, 'lambda', options.lambda ?? 0.25);
  return tf.tidy(() => {
    const crossEntropy = crossEntropyUnchecked(z, y);
    if (lambda === 0) return crossEntropy;
    // CE − λ · CMI
    const cmi = conditionalMutualInformationUnchecked(z, y, numClasses, centroids);
    return tf.sub(crossEntropy, tf.mul(lambda, cmi));
  });
}
