export { attentionTransferLoss, type AttentionTransferLossOptions } from './attention-transfer-loss';
export type { FeatureInput } from './common';
export { fitnetLoss } from './fitnet-loss';
export { similarityPreservingLoss } from './similarity-preserving-loss';
export { correlationCongruenceLoss } from './correlation-congruence-loss';
export { rkdLoss, type RkdLossOptions } from './rkd-loss';
export { pktLoss, type PktLossOptions } from './pkt-loss';
