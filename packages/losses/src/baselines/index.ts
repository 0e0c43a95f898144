export { attentionTransferLoss, type AttentionTransferLossOptions } from './attention-transfer-loss';
export type { FeatureInput } from './common';
