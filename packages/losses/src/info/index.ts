export { kdLoss, type KdLossOptions } from './kd-loss';
export { crossEntropy } from './cross-entropy';
export { classCentroids } from './class-centroids';
export {
  conditionalMutualInformation,
  CENTROID_FLOOR,
  type ConditionalMutualInformationOptions,
} from './conditional-mutual-information';
export { mcmiLoss, type McmiLossOptions } from './mcmi-loss';
export { vidLoss, type VidLossOptions } from './vid-loss';
export { infoNceLoss, type InfoNceLossOptions } from './info-nce';
export { icdLoss, type IcdLossOptions } from './icd-loss';
export { dkdLoss, type DkdLossOptions } from './dkd-loss';
