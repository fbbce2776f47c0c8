/** Errors the emulator answers with, shaped as SageMaker's JSON protocols carry them. */

/** A failed call: HTTP status, the error code the SDK sees (`__type`), its message and extra fields. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** SageMaker's catch-all client error: bad input, missing resource, wrong state. */
export const validation = (message: string) => new ApiError(400, 'ValidationException', message);

/** The runtime's variant of it (sagemaker-runtime models it as `ValidationError`). */
export const runtimeValidation = (message: string) => new ApiError(400, 'ValidationError', message);

export const resourceNotFound = (message: string) => new ApiError(400, 'ResourceNotFound', message);

export const resourceLimitExceeded = (message: string) => new ApiError(400, 'ResourceLimitExceeded', message);

export const unknownOperation = (target: string) =>
  new ApiError(400, 'UnknownOperationException', `Operation ${target} is not supported by the emulator.`);

export const serialization = (message: string) => new ApiError(400, 'SerializationException', message);
