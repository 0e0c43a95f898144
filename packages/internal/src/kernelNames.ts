/**
 * Names of the optional kernels that @kd/models calls when the active backend registers them and that
 * @kd/wasm-training registers for the wasm backend: one definition for both sides of the contract.
 *
 * `KdBatchNormTraining`: inputs `{ x [N,H,W,C], scale [C], offset [C], runningMean [C], runningVariance [C] }`,
 * attrs `{ epsilon, momentum }`; outputs `[y, mean, variance, newRunningMean, newRunningVariance]` with μ, σ²
 * the batch mean and biased variance over the n = N·H·W positions of each channel,
 * y = (x − μ)·scale/√(σ² + ε) + offset, newRunningMean = (1 − m)·runningMean + m·μ and
 * newRunningVariance = (1 − m)·runningVariance + m·σ²·n/(n − 1).
 *
 * `KdBatchNormTrainingGrad`: inputs `{ dy, x, scale, mean, variance }` (mean and variance as the forward
 * kernel returned them), attrs `{ epsilon }`; outputs `[dx, dScale, dOffset]`, the gradient of y above with
 * μ and σ² depending on x.
 */
export const BATCH_NORM_TRAINING_KERNEL = 'KdBatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'KdBatchNormTrainingGrad';
