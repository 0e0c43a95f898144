/** A loss part became NaN or ±Infinity: the run stops before the update; the last checkpoint is intact. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly functionName: string,
    readonly epoch: number,
    readonly step: number,
    readonly globalStep: number,
    readonly part: string,
    readonly value: number,
    readonly lastCheckpointEpoch: number | undefined,
  ) {
    super(
      `${functionName}: non-finite loss at epoch ${epoch}, step ${step} (global step ${globalStep}): ` +
        `loss part '${part}' = ${value}; no update was applied. ` +
        (lastCheckpointEpoch === undefined
          ? 'No checkpoint was written yet.'
          : `The last good checkpoint (epoch ${lastCheckpointEpoch}) is intact; lower the learning rate or the part's weight and resume.`),
    );
    this.name = 'NonFiniteLossError';
  }
}

/** The abort signal fired: the run stopped between two steps; the last checkpoint is intact. */
export class TrainingAbortedError extends Error {
  constructor(
    readonly functionName: string,
    readonly epoch: number,
    readonly step: number,
    readonly lastCheckpointEpoch: number | undefined,
  ) {
    super(
      `${functionName}: aborted at epoch ${epoch} before step ${step}; ` +
        (lastCheckpointEpoch === undefined
          ? 'no checkpoint was written yet.'
          : `the last checkpoint (epoch ${lastCheckpointEpoch}) is intact: pass resume: true to continue.`),
    );
    this.name = 'TrainingAbortedError';
  }
}

/**
 * Training collapsed (MCMI with too large a λ): the collapsed epoch was not checkpointed. `reason` states what
 * was observed; the message adds the library's advice (`collapseGuard: false`), so a front end with its own
 * switches (a CLI flag) can build its own message from `reason`, `epoch` and `lastCheckpointEpoch`.
 */
export class TrainingCollapsedError extends Error {
  constructor(
    readonly functionName: string,
    readonly epoch: number,
    readonly reason: string,
    advice: string,
    readonly lastCheckpointEpoch: number | undefined,
  ) {
    super(
      `${functionName}: training collapsed at epoch ${epoch}: ${reason} ${advice}` +
        (lastCheckpointEpoch === undefined
          ? ''
          : ` The last good checkpoint (epoch ${lastCheckpointEpoch}) is intact.`),
    );
    this.name = 'TrainingCollapsedError';
  }
}
